import { v7 as uuidv7 } from 'uuid';
import type { EventDraft, EventOf, EventType, SessionChangeReason, SessionFacts } from '../../../common/events/events';
import type { RoutingTrigger } from '../../../common/routing/types';
import type { CustomerMerge, SessionRecord } from '../sessions/store';

/**
 * Makes one event: stamps a fresh UUIDv7 `id` and `at` (ISO 8601, now) on what the publisher says.
 * The bus checks the result against the type's schema on publish.
 */
export function newEvent<T extends EventType>(type: T, draft: EventDraft<T>, now: () => number = Date.now): EventOf<T> {
  return { ...draft, id: uuidv7(), at: new Date(now()).toISOString(), type } as EventOf<T>;
}

/** The session facts events carry (common/events/ `SessionFactsSchema`) from a stored session. */
export function sessionFacts(s: SessionRecord): SessionFacts {
  return {
    status: s.status,
    channel: s.channel,
    customerId: s.customerId,
    skillGroup: s.skillGroup,
    assignedAgentId: s.assignedAgentId,
    offeredAgentId: s.offeredAgentId,
    offerExpiresAt: s.offerExpiresAt,
    tier: s.routing?.tier ?? null,
    priority: s.routing?.priority ?? null,
    createdAt: s.createdAt,
    waitingSince: s.waitingSince,
    lastMessageAt: s.lastMessageAt,
    handover: s.handover,
    ...(s.movedFrom ? { movedFrom: s.movedFrom } : {}),
    updatedAt: s.updatedAt,
  };
}

/**
 * `session.changed` for a session as stored after the change.
 * @param actor 'system' for the router, the staff user id for an agent's act
 * @param before the session as the changer found it: when it held an offer that the change took
 *   away from its agent (timed out, agent gone, taken by someone else), the payload names that agent
 *   in `offerWithdrawnFrom` so their workstation drops the offer (`offer:revoked`).
 */
export function sessionChanged(
  s: SessionRecord,
  reason: SessionChangeReason,
  actor: string,
  trigger?: RoutingTrigger,
  before?: Pick<SessionRecord, 'status' | 'offeredAgentId'>,
): EventOf<'session.changed'> {
  const withdrawn = withdrawnOffer(before, s);
  return newEvent('session.changed', {
    actor,
    sessionId: s.id,
    conversationId: s.conversationId,
    payload: {
      ...sessionFacts(s),
      reason,
      ...(trigger ? { trigger } : {}),
      ...(withdrawn ? { offerWithdrawnFrom: withdrawn } : {}),
      ...(reason === 'closed' && s.wrapUpCode ? { wrapUpCode: s.wrapUpCode } : {}),
    },
  });
}

/**
 * `customer.merged` for a merge of two customers, or its undo (issue 12): the audit record, ids only.
 * `actor`: the staff user, or `system` for a merge on a verified link.
 */
export function customerMerged(merge: CustomerMerge, actor: string, undone: boolean): EventOf<'customer.merged'> {
  return newEvent('customer.merged', {
    actor,
    payload: { mergeId: merge.id, survivorId: merge.survivorId, mergedId: merge.mergedId, reason: merge.reason, undone },
  });
}

/** `customer.erased` (issue 17): the executed erasure request and every customer id it erased. */
export function customerErased(requestId: string, customerIds: string[], actor: string): EventOf<'customer.erased'> {
  return newEvent('customer.erased', { actor, payload: { requestId, customerIds } });
}

/**
 * `ai.acted` for something the AI did (or an agent did with the AI's work) in a session (DESIGN §8:
 * audited; facts only, never text). `payload` without `session`: the session's facts are added.
 */
export function aiActed(
  s: SessionRecord,
  actor: string,
  payload: Omit<EventOf<'ai.acted'>['payload'], 'session'>,
  now: () => number = Date.now,
): EventOf<'ai.acted'> {
  return newEvent(
    'ai.acted',
    { actor, sessionId: s.id, conversationId: s.conversationId, payload: { ...payload, session: sessionFacts(s) } },
    now,
  );
}

/** The agent whose pending offer `before` held and `after` no longer gives them (neither offered nor theirs). */
function withdrawnOffer(before: Pick<SessionRecord, 'status' | 'offeredAgentId'> | undefined, after: SessionRecord): string | null {
  if (before?.status !== 'offered' || !before.offeredAgentId) return null;
  const agent = before.offeredAgentId;
  const kept =
    (after.status === 'offered' && after.offeredAgentId === agent) || (after.status === 'active' && after.assignedAgentId === agent);
  return kept ? null : agent;
}

/**
 * Wraps a handler so an event id it has already handled is skipped (at-least-once delivery made
 * effectively once). Remembers the last `max` ids (default 10,000) in this process; a handler that
 * throws does not mark the id, so the bus's retry runs it again.
 */
export function onceById<E extends { id: string }>(handler: (event: E) => Promise<void> | void, max = 10_000): (event: E) => Promise<void> {
  const seen = new Set<string>();
  return async (event) => {
    if (seen.has(event.id)) return;
    await handler(event);
    seen.add(event.id);
    // A Set iterates in insertion order: the first entry is the oldest.
    if (seen.size > max) seen.delete(seen.values().next().value!);
  };
}
