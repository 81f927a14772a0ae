import { noteVisibleTo } from '../../../common/api/supervision';
import { hasMaskedRun, restoreMasked } from '../../../common/privacy/staff-view';
import { HuiliuError } from '../../../common/errors/codes';
import type { UserView } from '../../../common/api/auth';
import {
  HISTORY_PAGE_MAX,
  type MessagePageView,
  type MessageView,
  type SessionDetail,
  type SessionSummary,
  type WrapUpCode,
} from '../../../common/api/sessions';
import { can } from '../auth/policy';
import type { Bus } from '../bus/bus';
import { aiActed, sessionChanged } from '../bus/events';
import { sendText } from './outbound';
import type { Logger } from '../logging/logger';
import type { AgentPool } from '../routing/agent-pool';
import type { AfterCallWork } from '../routing/after-call-work';
import { compareWaiting, waitingContact } from '../routing/engine';

/** How many waiting contacts of a group a customer's queue position is worked out from (in router order). */
const STANDING_SCAN_MAX = 500;
import type { Router } from '../routing/router';
import type { HistoryLine, SessionRecord, SessionStore } from '../sessions/store';
import type { SessionViews } from '../sessions/views';
import type { ConversationSummary, Handover, HandoverReason, QueueStanding } from '../../../common/ai/assist';
import type { Lang } from '../../../common/ai/types';
import type { RoutingConfig } from '../../../common/routing/types';
import { textOf } from '../../../common/message/envelope';
import { detectLang } from '../ai/text';
import { phrases } from '../ai/tier/phrases';

/**
 * Who acts in a use case: a signed-in staff user as the auth service verified them. The AI tier and
 * SIP get their own actor kinds when they arrive; every use case below asks the same RBAC rules of it.
 */
export type ConversationActor = UserView;

export interface ConversationDeps {
  store: SessionStore;
  /** Offer timers and re-offers; the service tells it when a contact was taken, closed or handed back. */
  router: Pick<Router, 'settle' | 'agentAvailable' | 'reoffer' | 'handedOver'>;
  /** This node's view of agents; their chat count is set from the store after every change (C9). */
  pool: AgentPool;
  bus: Bus;
  views: SessionViews;
  logger: Logger;
  /** The routing config (chat capacity for the queue estimate); default: capacity 3. */
  routingConfig?: () => RoutingConfig | Promise<RoutingConfig>;
  /** Handling time assumed per contact for the estimated wait (seconds; `ai.autoAnswer.defaultHandleSeconds`). */
  handleSeconds?: number;
  /**
   * Writes the few lines the person taking a handed-over contact reads first (issue 10; the assist
   * service's summarizer), given the hand-over being made (its reason goes in the summary's "done").
   * Absent or failing: the hand-over goes on without a summary.
   */
  summarize?: (session: SessionRecord, handover: Handover) => Promise<ConversationSummary>;
  /** Clock, ms since the epoch. */
  now?: () => number;
  /**
   * After-call work (issue 11): told when an agent closes a contact; while it runs the agent gets no
   * offers. Absent: the agent is offered waiting contacts at once.
   */
  afterCallWork?: Pick<AfterCallWork, 'contactClosed'>;
  /**
   * AI assistance (issue 10, `ai/assist`): told of a reply sent from an AI draft, to record what the
   * agent did with it. Absent: drafts are not followed up.
   */
  drafts?: {
    draftUsed(actor: ConversationActor, session: SessionRecord, used: { draftId: string; text: string; messageId: string }): Promise<void>;
    /** The AI texts staff were shown masked for the session (issue 17): a reply written from them gets their values back. */
    shownTexts?(sessionId: string): Promise<string[]>;
  };
}

/** A hand-over from the AI tier to people (issue 10). */
export interface HandoverInput {
  sessionId: string;
  reason: HandoverReason;
  /** `ai` (the AI tier's rules) or `customer` (a button, the app's hand-over call). */
  by: 'ai' | 'customer';
  /** The intent the AI detected last, and its confidence (0..1); null when none. */
  intent?: string | null;
  confidence?: number | null;
}

/** What a hand-over did: `changed` when this call moved the session from the AI to people. */
export interface HandoverResult {
  session: SessionSummary;
  changed: boolean;
  /** Where the customer stands now; null when a person already has the conversation. */
  standing: QueueStanding | null;
}

export interface ReplyInput {
  sessionId: string;
  /** The sender's idempotency key: the same id again answers the stored message, once. */
  clientMessageId: string;
  text: string;
  /** The AI draft the reply came from (assisted tier); the outcome is judged from the texts. */
  draftId?: string;
}

/** Options of `acceptRecord` / `closeRecord`. */
export interface RecordOptions {
  /**
   * History lines (system events, e.g. a call's `call.answered` / `call.ended`) stored in the same
   * write as the claim or the close (`SessionStore.appendAndClaim` / `appendAndClose`, issue 18): one
   * writer round trip, the lines before the close (a contact taken over from the AI: right after its
   * hand-over write). Not written when nothing changes (a repeated close).
   */
  history?: readonly HistoryLine[];
}

export interface CloseInput {
  sessionId: string;
  wrapUpCode: WrapUpCode;
  /** Free text kept encrypted with the session, at most 2,000 characters (the transport checks it). */
  note?: string;
  /** The agent marked the issue resolved in this contact (FCR); absent: `wrapUpCode === 'resolved'`. */
  resolvedOnFirstContact?: boolean;
}

export interface HistoryInput {
  sessionId: string;
  /** The page ends just before this seq; omitted: the newest page. */
  beforeSeq?: number;
  /** At most HISTORY_PAGE_MAX (the default). */
  limit?: number;
}

/**
 * The conversation use cases (DESIGN §6), called alike by the agent socket, the REST routes and,
 * later, SIP and the AI tier. Each use case applies the RBAC rules itself (an unseen session is
 * SESSION_NOT_FOUND, a seen but not handled one FORBIDDEN), so no transport can forget them, and
 * returns what the staff client shows. Errors are HuiliuError with codes from common/errors/codes.ts.
 *
 * Transfers are their own use cases beside these (`transfers.ts`, issue 11); supervisor join is not
 * declared until it has a behaviour (see docs/architecture.md "Conversations").
 */
export interface ConversationService {
  /** The session as the actor may see it (newest page of messages, context). SESSION_NOT_FOUND. */
  open(actor: ConversationActor, sessionId: string): Promise<SessionDetail>;
  /** An older page of the session's conversation, oldest first inside the page (C8). SESSION_NOT_FOUND. */
  history(actor: ConversationActor, input: HistoryInput): Promise<MessagePageView>;
  /**
   * Takes a waiting or offered contact. Idempotent per agent: asking again answers the same detail
   * and changes nothing (the store's `claim` decides once). SESSION_NOT_FOUND, FORBIDDEN,
   * OFFER_TAKEN (someone else has it), SESSION_CLOSED.
   */
  accept(actor: ConversationActor, sessionId: string): Promise<SessionDetail>;
  /**
   * `accept` answering the stored session instead of the staff view (no history read or decrypted):
   * for callers that only need the outcome, such as a picked-up call (issue 18). Same errors.
   */
  acceptRecord(actor: ConversationActor, sessionId: string, options?: RecordOptions): Promise<SessionRecord>;
  /**
   * Stores the agent's text message and hands it to the channel (`message.out`). Idempotent on
   * `clientMessageId`. SESSION_NOT_FOUND, FORBIDDEN, NOT_ASSIGNED, SESSION_CLOSED,
   * IDEMPOTENCY_CONFLICT.
   */
  reply(actor: ConversationActor, input: ReplyInput): Promise<MessageView>;
  /**
   * Wraps up the actor's active session; the agent's freed slot is offered waiting contacts.
   * SESSION_NOT_FOUND, FORBIDDEN, NOT_ASSIGNED, SESSION_CLOSED.
   */
  close(actor: ConversationActor, input: CloseInput): Promise<SessionSummary>;
  /** `close` answering the stored session instead of the staff summary (a hung-up call, issue 18). Same errors. */
  closeRecord(actor: ConversationActor, input: CloseInput, options?: RecordOptions): Promise<SessionRecord>;
  /**
   * Hands the actor's active session back to the queue; it is offered to another agent first.
   * SESSION_NOT_FOUND, FORBIDDEN, NOT_ASSIGNED (not theirs, or no longer active), SESSION_CLOSED.
   */
  release(actor: ConversationActor, sessionId: string): Promise<SessionSummary>;
  /**
   * Moves a contact from the AI tier to its skill group's human queue at once (DESIGN §5: never a
   * dead end, never back to the AI): records the hand-over with a summary, offers the contact, and
   * tells the customer where they stand (position, estimated wait) or, with no agent online, that
   * they can leave a message that agents see first. Asked again while waiting, it tells them their
   * place again and changes nothing. SESSION_NOT_FOUND, SESSION_CLOSED.
   */
  handOver(input: HandoverInput): Promise<HandoverResult>;
  /** Where a waiting contact stands in its skill group's queue (1 = next). SESSION_NOT_FOUND. */
  standing(sessionId: string): Promise<QueueStanding>;
}

/** How many channel switches an action follows from the session it names to the live one. */
const MAX_MOVES = 16;

/** Builds the service on its ports; it holds no state of its own (the store has it all). */
export function createConversationService(deps: ConversationDeps): ConversationService {
  const now = deps.now ?? Date.now;
  const log = deps.logger.child({ component: 'conversations' });

  async function seen(actor: ConversationActor, sessionId: string): Promise<SessionRecord> {
    const session = await deps.store.getSession(sessionId);
    // A session of another group is not there for this actor: not even its existence leaks.
    if (!session || !can(actor, 'session.view', { skillGroup: session.skillGroup })) throw new HuiliuError('SESSION_NOT_FOUND');
    return session;
  }

  /**
   * The session an action on `sessionId` acts on: the session itself, or — when the customer went on
   * from its channel to another (issue 12, `movedTo`) — the session that carries the conversation now,
   * so a reply goes out on the channel the customer last used and an agent's open tab keeps working.
   */
  async function handled(actor: ConversationActor, sessionId: string): Promise<SessionRecord> {
    let session = await seen(actor, sessionId);
    for (let hops = 0; session.status === 'closed' && session.movedTo && hops < MAX_MOVES; hops++) {
      session = await seen(actor, session.movedTo);
    }
    if (!can(actor, 'session.handle', { skillGroup: session.skillGroup })) throw new HuiliuError('FORBIDDEN');
    return session;
  }

  /** Capacity comes from the store's count of the agent's active sessions (C9), never a side counter. */
  async function syncCapacity(agentId: string): Promise<void> {
    deps.pool.setActiveChats(agentId, await deps.store.activeChatCount(agentId), now());
  }

  /** The agent has a free slot: waiting contacts are offered in the background, failures logged. */
  function offerWaiting(agentId: string): void {
    void deps.router.agentAvailable(agentId).catch((error: unknown) => log.error({ err: error }, 'offering waiting contacts failed'));
  }

  function handoverOf(input: Omit<Handover, 'at' | 'noAgentOnline'>, noAgentOnline: boolean): Handover {
    return {
      at: new Date(now()).toISOString(),
      reason: input.reason,
      by: input.by,
      intent: input.intent,
      confidence: input.confidence,
      noAgentOnline,
    };
  }

  /** The intent of the AI's newest answer in the conversation (its message's `meta.aiIntent`), or null. */
  async function lastIntent(session: SessionRecord): Promise<string | null> {
    const last = await deps.store.lastMessage(session.conversationId, { direction: 'out' });
    const intent = last?.authorKind === 'ai' ? last.meta['aiIntent'] : null;
    return typeof intent === 'string' ? intent : null;
  }

  async function summaryOf(session: SessionRecord, handover: Handover): Promise<ConversationSummary | undefined> {
    if (!deps.summarize) return undefined;
    try {
      return await deps.summarize(session, handover);
    } catch (error) {
      log.warn({ err: error, sessionId: session.id }, 'summary failed; handing over without one');
      return undefined;
    }
  }

  async function publishHandover(session: SessionRecord, handover: Handover, actor: string): Promise<void> {
    const { reason, intent, confidence } = handover;
    await deps.bus.publish(aiActed(session, actor, { action: 'handed-over', reason, intent, confidence }, now));
  }

  /** The customer's language, from their newest message (system notices answer in it). */
  async function customerLang(session: SessionRecord): Promise<Lang> {
    const last = await deps.store.lastMessage(session.conversationId, { direction: 'in' });
    return last ? detectLang(textOf(last)) : 'en';
  }

  /** A notice from the system to the customer, stored (durable, in the transcript) and sent on their channel. */
  async function notify(session: SessionRecord, clientMessageId: string, text: string): Promise<void> {
    await sendText(deps, session, { actor: 'system', authorId: null, authorKind: 'system', clientMessageId, text });
  }

  /**
   * Position: 1 + the contacts of the group waiting since earlier (the same count before and after an
   * offer, so the customer is never told two different places). Estimated wait: 0 once offered; none while free
   * chat slots of available agents cover the position; beyond them, one handling time per full round
   * of the group's capacity. With no available agent: null, `noAgentOnline`.
   */
  /**
   * Contacts of the session's group served before it, in the router's order (`engine.ts
   * compareWaiting`: priority plus aging, then first come first served); those already offered to an
   * agent count as ahead. A queue longer than STANDING_SCAN_MAX is counted by waiting time alone.
   */
  async function contactsAhead(session: SessionRecord): Promise<number> {
    const byWait = () =>
      deps.store.countSessions({ status: ['queued', 'offered'], skillGroups: [session.skillGroup], waitingBefore: session.waitingSince });
    const config = await deps.routingConfig?.();
    if (!config || !session.routing) return byWait();
    const waiting = await deps.store.listSessions({
      status: ['queued', 'offered'],
      skillGroups: [session.skillGroup],
      limit: STANDING_SCAN_MAX,
    });
    if (waiting.length >= STANDING_SCAN_MAX) return byWait();
    const t = now();
    const me = waitingContact(session, session.routing);
    return waiting.filter(
      (s) =>
        s.id !== session.id &&
        (s.status === 'offered' ||
          (s.routing ? compareWaiting(waitingContact(s, s.routing), me, t, config) < 0 : s.waitingSince < session.waitingSince)),
    ).length;
  }

  async function standingOf(session: SessionRecord): Promise<QueueStanding> {
    const position = (await contactsAhead(session)) + 1;
    // Offered to an agent now: an answer is seconds away, whatever the count ahead says.
    if (session.status === 'offered') return { position, estimatedWaitSeconds: 0, noAgentOnline: false };
    const agents = deps.pool.inGroup(session.skillGroup).filter((a) => a.presence === 'available');
    if (agents.length === 0) return { position, estimatedWaitSeconds: null, noAgentOnline: true };
    const capacity = (await deps.routingConfig?.())?.capacity.chat ?? 3;
    const free = agents.reduce((n, a) => n + Math.max(0, capacity - a.activeChats), 0);
    const rounds = position <= free ? 0 : Math.ceil((position - free) / (agents.length * capacity));
    return { position, estimatedWaitSeconds: rounds * (deps.handleSeconds ?? 300), noAgentOnline: false };
  }

  const service: ConversationService = {
    async open(actor, sessionId) {
      return deps.views.detail(await seen(actor, sessionId), actor);
    },

    async history(actor, { sessionId, beforeSeq, limit }) {
      const session = await seen(actor, sessionId);
      const page = await deps.store.recentMessages(session.conversationId, {
        ...(beforeSeq ? { beforeSeq } : {}),
        limit: limit ?? HISTORY_PAGE_MAX,
      });
      // Whispers are for the agent they were meant for and supervisors (issue 16, api/supervision.ts).
      return { messages: await deps.views.messages(page.messages.filter((m) => noteVisibleTo(m, actor))), hasOlder: page.hasOlder };
    },

    async accept(actor, sessionId) {
      return deps.views.detail(await service.acceptRecord(actor, sessionId), actor);
    },

    async acceptRecord(actor, sessionId, { history = [] } = {}) {
      const before = await handled(actor, sessionId);
      if (before.status === 'bot') {
        // Taking a contact over from the AI: hand-over and assignment in one write.
        const handover = handoverOf({ reason: 'agent-took-over', by: actor.id, intent: await lastIntent(before), confidence: null }, false);
        const summary = await summaryOf(before, handover);
        const taken = await deps.store.handOver(before.id, { handover, claimBy: actor.id, ...(summary ? { summary } : {}) });
        if (taken.changed) {
          for (const line of history) await deps.store.appendOutbound({ ...line, sessionId: before.id });
          await syncCapacity(actor.id);
          await deps.bus.publish(sessionChanged(taken.session, 'accepted', actor.id, undefined, before));
          await publishHandover(taken.session, handover, actor.id);
          return taken.session;
        }
        // The AI handed it over meanwhile: take it like any waiting contact.
      }
      const { session, changed } = history.length
        ? await deps.store.appendAndClaim(before.id, actor.id, history)
        : await deps.store.claim(before.id, actor.id);
      // Only the claim that changed the session acts on it: a double accept counts once (C9).
      if (changed) {
        deps.router.settle(before.id);
        await syncCapacity(actor.id);
        await deps.bus.publish(sessionChanged(session, 'accepted', actor.id, undefined, before));
      }
      return session;
    },

    async reply(actor, { sessionId, clientMessageId, text: written, draftId }) {
      const session = await handled(actor, sessionId);
      if (session.assignedAgentId !== actor.id) throw new HuiliuError('NOT_ASSIGNED');
      // Staff see AI drafts and suggestions masked (issue 17); the customer gets the values they stand for.
      const text =
        hasMaskedRun(written) && deps.drafts?.shownTexts ? restoreMasked(written, await deps.drafts.shownTexts(session.id)) : written;
      const { envelope, duplicate } = await sendText(deps, session, {
        actor: actor.id,
        authorId: actor.id,
        authorKind: 'agent',
        clientMessageId,
        text,
      });
      if (!duplicate) {
        // The reply is stored and on its way: a failure to record the draft's feedback must not fail it.
        if (draftId && deps.drafts) {
          await deps.drafts
            .draftUsed(actor, session, { draftId, text, messageId: envelope.id })
            .catch((error: unknown) => log.error({ err: error, sessionId }, 'recording the use of a draft failed'));
        }
      }
      return deps.views.message(envelope);
    },

    async close(actor, input) {
      return deps.views.summary(await service.closeRecord(actor, input));
    },

    async closeRecord(actor, { sessionId, wrapUpCode, note, resolvedOnFirstContact }, { history = [] } = {}) {
      const current = await handled(actor, sessionId);
      // A wrap-up sent again with its ack lost (the desktop outbox drains it after a reconnect, issue 15)
      // answers what the first one did and changes nothing; a different code is a second wrap-up: refused.
      if (current.status === 'closed' && current.assignedAgentId === actor.id && current.wrapUpCode === wrapUpCode) return current;
      const closed = history.length
        ? await deps.store.appendAndClose(current.id, actor.id, wrapUpCode, note, history)
        : await deps.store.close(current.id, actor.id, wrapUpCode, note);
      deps.router.settle(current.id);
      await syncCapacity(actor.id);
      const changed = sessionChanged(closed, 'closed', actor.id);
      const fcr = resolvedOnFirstContact ?? wrapUpCode === 'resolved';
      await deps.bus.publish({ ...changed, payload: { ...changed.payload, resolvedOnFirstContact: fcr } });
      const wrapUpUntil = await deps.afterCallWork?.contactClosed(actor.id, closed.channel);
      if (!wrapUpUntil) offerWaiting(actor.id);
      return closed;
    },

    async handOver(input) {
      const before = await deps.store.getSession(input.sessionId);
      if (!before) throw new HuiliuError('SESSION_NOT_FOUND');
      if (before.status === 'closed') throw new HuiliuError('SESSION_CLOSED');
      const lang = await customerLang(before);
      if (before.status !== 'bot') {
        // Already with people: a customer asking again hears where they stand; nothing changes.
        if (before.status === 'active') return { session: await deps.views.summary(before), changed: false, standing: null };
        const standing = await standingOf(before);
        if (input.by === 'customer') await notify(before, `waiting:${before.id}:${now()}`, phrases.stillWaiting(standing, lang));
        return { session: await deps.views.summary(before), changed: false, standing };
      }
      const noAgentOnline = !deps.pool.inGroup(before.skillGroup).some((a) => a.presence === 'available');
      const handover = handoverOf({ ...input, intent: input.intent ?? null, confidence: input.confidence ?? null }, noAgentOnline);
      const summary = await summaryOf(before, handover);
      const { session, changed } = await deps.store.handOver(before.id, { handover, ...(summary ? { summary } : {}) });
      if (!changed) return deps.views.summary(session).then((s) => ({ session: s, changed: false, standing: null }));
      await deps.bus.publish(sessionChanged(session, 'handed-over', input.by === 'ai' ? 'ai' : 'customer', undefined, before));
      await publishHandover(session, handover, input.by === 'ai' ? 'ai' : 'customer');
      const routed = (await deps.router.handedOver(session.id)) ?? session;
      const standing = await standingOf(routed);
      // One notice per hand-over: the same id again (a retried event) stores nothing new.
      await notify(routed, `handover:${session.id}`, phrases.handedOver(standing, lang));
      log.info({ sessionId: session.id, reason: input.reason, by: input.by, status: routed.status }, 'handed over from the AI');
      return { session: await deps.views.summary(routed), changed: true, standing };
    },

    async standing(sessionId) {
      const session = await deps.store.getSession(sessionId);
      if (!session) throw new HuiliuError('SESSION_NOT_FOUND');
      return standingOf(session);
    },

    async release(actor, sessionId) {
      const session = await handled(actor, sessionId);
      if (session.status === 'closed') throw new HuiliuError('SESSION_CLOSED');
      const released = await deps.store.release(session.id, actor.id);
      // The store's conditional update decides: not active with this agent (any more) → not theirs.
      if (!released) throw new HuiliuError('NOT_ASSIGNED');
      await syncCapacity(actor.id);
      await deps.bus.publish(sessionChanged(released, 'released', actor.id));
      // Other agents go first; the releasing agent's own free slot fills at their next availability.
      const routed = await deps.router.reoffer(session.id, actor.id);
      return deps.views.summary(routed ?? released);
    },
  };
  return service;
}
