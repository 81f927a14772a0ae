import type { ConversationSummary } from '../../../common/ai/assist';
import type { Lang } from '../../../common/ai/types';
import type { UserView } from '../../../common/api/auth';
import type { SessionDetail } from '../../../common/api/sessions';
import type { ReassignTarget } from '../../../common/api/supervision';
import {
  TRANSFER_EVENT_NAME,
  type TransferEventData,
  type TransferMode,
  type TransferTarget,
  type TransferView,
} from '../../../common/api/transfers';
import { HuiliuError } from '../../../common/errors/codes';
import type { EventOf } from '../../../common/events/events';
import { textOf } from '../../../common/message/envelope';
import type { RoutingConfig, RoutingDecision } from '../../../common/routing/types';
import type { TransferOffer, TransferTargets } from '../../../common/socket/agent-events';
import { maskTransfer } from '../../../common/privacy/staff-view';
import { detectLang } from '../ai/text';
import { phrases } from '../ai/tier/phrases';
import { can } from '../auth/policy';
import type { Bus, Subscription } from '../bus/bus';
import { newEvent, onceById, sessionChanged, sessionFacts } from '../bus/events';
import type { Logger } from '../logging/logger';
import type { AgentPool } from '../routing/agent-pool';
import type { Router } from '../routing/router';
import { transferDecision } from '../routing/transfer';
import type { NewTransfer, SessionRecord, SessionStore, TransferRecord } from '../sessions/store';
import type { SessionViews } from '../sessions/views';
import { sendText } from './outbound';

/**
 * Transfers (issue 11): an agent passes the contact they hold to a colleague, a skill group or the
 * expert tier, with the conversation (the same session: its whole history) and an AI summary.
 *
 * - **Cold**: the contact leaves the agent at once (`queued`, in its new group or tier) and is
 *   routed: to a named agent it is offered to them alone for one offer time-out (whatever their load
 *   or presence: a person chose them), then to their skill group; to a group or the expert tier the
 *   router offers it as it would any waiting contact, the transferring agent last.
 * - **Warm** (chats only): the agent keeps the contact (`active`) while the target is offered it
 *   (`transfer:offered`): a named agent who is signed in, available and under capacity, or the agent
 *   the router picks in the group (`Router.transferCandidate`). Accepting moves the contact in one
 *   conditional store write; declining, the offer time-out (`offerTimeoutMs`) or the sender cancelling
 *   leave it with the sender, who is told (`transfer:updated`).
 *
 * Every transfer is a `transfer.changed` event (the audit record; the hubs push from it), a routing
 * decision with trigger `transferred` in the log, and a staff-only event message in the conversation
 * (`staff.transfer`, never sent to the customer). The customer is told politely they are being
 * connected to a colleague: a cold transfer at once, a warm one when it is accepted.
 *
 * Pending transfers are state in the store: every server agrees on them. The expiry timers are this
 * process's own; a restart schedules them again from the store (`start`), and the store refuses an
 * accept after `expiresAt` whatever the timers do.
 */
export interface TransferService {
  /** Schedules the expiry of pending transfers and cancels those whose contact closes or leaves its sender. */
  start(): Promise<void>;
  stop(): Promise<void>;
  /**
   * `session:transfer`. SESSION_NOT_FOUND, FORBIDDEN, SESSION_CLOSED, NOT_ASSIGNED (not the actor's
   * active contact), VALIDATION_FAILED (warm for a call), TRANSFER_TARGET_NOT_FOUND,
   * TRANSFER_TARGET_NOT_IN_GROUP, TRANSFER_TO_SELF, TRANSFER_PENDING, TRANSFER_TARGET_UNAVAILABLE.
   */
  transfer(actor: UserView, input: TransferInput): Promise<TransferView>;
  /**
   * `supervise:reassign` (issue 16): a lead moves a contact an agent holds to another agent of its
   * group or back to the group's queue — a cold transfer on the holder's behalf, its events made by
   * the lead. SESSION_NOT_FOUND, FORBIDDEN (not a group the actor supervises), SESSION_CLOSED,
   * NO_AGENT_ASSIGNED (nobody holds it), TRANSFER_TO_SELF (to its holder), TRANSFER_TARGET_NOT_FOUND,
   * TRANSFER_TARGET_NOT_IN_GROUP, TRANSFER_PENDING.
   */
  reassign(actor: UserView, input: { sessionId: string; to: ReassignTarget; note?: string | undefined }): Promise<TransferView>;
  /**
   * Issue 18: takes back a cold transfer nobody has taken yet — a blind transfer on the phone whose new
   * call failed before the target answered it, while the customer is still on the first agent's call
   * (voice/service.ts). The contact goes back to the transfer's sender, `active`, in `before.skillGroup`
   * with `before.routing` (the state the transfer found it in), and the offer to the target (or to the
   * agent the router picked in the target group) is withdrawn. A sender not signed in here (not in the
   * pool: they signed out or their connection is gone) gets nothing: the contact waits in the queue of
   * `before.skillGroup` instead and is offered as usual — what the router does with the contacts of an
   * agent who signs out. The transfer is then `cancelled` by `system` (`transfer.changed`, its staff
   * record). Resolves with the session as stored and where it went; `to: null` and the session unchanged
   * when nothing applied (someone took it or it closed meanwhile, or it was undone already: idempotent).
   * TRANSFER_NOT_FOUND for an unknown transfer.
   */
  undoCold(
    transferId: string,
    before: { skillGroup: string; routing: RoutingDecision | null },
  ): Promise<{ session: SessionRecord; to: 'sender' | 'queue' | null }>;
  /** `transfer:accept` by the agent it is offered to: the contact's detail. TRANSFER_NOT_FOUND, TRANSFER_NOT_PENDING. */
  accept(actor: UserView, transferId: string): Promise<SessionDetail>;
  /** `transfer:decline` by the agent it is offered to. TRANSFER_NOT_FOUND, TRANSFER_NOT_PENDING. */
  decline(actor: UserView, transferId: string, reason?: string): Promise<TransferView>;
  /** `transfer:cancel` by its sender. TRANSFER_NOT_FOUND, TRANSFER_NOT_PENDING. */
  cancel(actor: UserView, transferId: string): Promise<TransferView>;
  /** `transfer:targets`: agents signed in here (the actor's groups first) and every skill group. SESSION_NOT_FOUND, FORBIDDEN. */
  targets(actor: UserView, sessionId: string): Promise<TransferTargets>;
  /** A transfer as its parties see it (names filled in); null for an unknown id. */
  view(transferId: string): Promise<TransferView | null>;
  /** What `transfer:offered` carries for a pending warm transfer; null when it is not pending. */
  offer(transferId: string): Promise<TransferOffer | null>;
  /** Pending warm transfers offered to an agent (pushed again when they connect). */
  offersFor(agentId: string): Promise<TransferOffer[]>;
  /** `SessionDetail.transfer` for a viewer: the sender's pending one, else the newest that moved the contact. */
  detailExtras(session: SessionRecord, viewer: UserView): Promise<Pick<SessionDetail, 'transfer'>>;
}

export interface TransferInput {
  sessionId: string;
  to: TransferTarget;
  mode: TransferMode;
  note?: string | undefined;
}

export interface TransferDeps {
  store: SessionStore;
  router: Pick<Router, 'transferred' | 'transferCandidate' | 'agentAvailable' | 'settle' | 'reoffer'>;
  pool: AgentPool;
  bus: Bus;
  views: SessionViews;
  /** Staff users by id (the identity store): the target agent, and names in views. */
  directory: { userById(id: string): UserView | null };
  /** The configured skill groups. */
  skillGroups: readonly { id: string; name: string }[];
  routingConfig: () => RoutingConfig | Promise<RoutingConfig>;
  /** The AI summary of the conversation so far (`AssistService.summarize`). Absent or failing: none. */
  summarize?: (session: SessionRecord) => Promise<ConversationSummary>;
  logger: Logger;
  now?: () => number;
}

const HANDLES_CONTACTS = ['agent', 'lead'] as const;

export function createTransferService(deps: TransferDeps): TransferService {
  const now = deps.now ?? Date.now;
  const iso = () => new Date(now()).toISOString();
  const log = deps.logger.child({ component: 'transfers' });
  const timers = new Map<string, NodeJS.Timeout>();
  const subs: Subscription[] = [];
  let stopped = false;
  const groupName = (id: string) => deps.skillGroups.find((g) => g.id === id)?.name ?? id;
  const personOf = (id: string) => ({ id, name: deps.directory.userById(id)?.displayName ?? id });

  // ── RBAC (the conversation use cases' rules) ────────────────────────────────────────────────────
  async function handled(actor: UserView, sessionId: string): Promise<SessionRecord> {
    const session = await deps.store.getSession(sessionId);
    if (!session || !can(actor, 'session.view', { skillGroup: session.skillGroup })) throw new HuiliuError('SESSION_NOT_FOUND');
    if (!can(actor, 'session.handle', { skillGroup: session.skillGroup })) throw new HuiliuError('FORBIDDEN');
    return session;
  }

  /** The transfer if the actor is its sender (`from`) or the agent it is offered to (`to`); else TRANSFER_NOT_FOUND (nothing leaks). */
  async function partyOf(actor: UserView, transferId: string, side: 'from' | 'to'): Promise<TransferRecord> {
    const t = await deps.store.getTransfer(transferId);
    if (!t || (side === 'from' ? t.fromAgentId : t.offeredAgentId) !== actor.id) throw new HuiliuError('TRANSFER_NOT_FOUND');
    return t;
  }

  async function syncCapacity(agentId: string): Promise<void> {
    deps.pool.setActiveChats(agentId, await deps.store.activeChatCount(agentId), now());
  }

  /** The agent has a free slot: waiting contacts are offered in the background. */
  function offerWaiting(agentId: string): void {
    void deps.router.agentAvailable(agentId).catch((error: unknown) => log.error({ err: error }, 'offering waiting contacts failed'));
  }

  // ── views ───────────────────────────────────────────────────────────────────────────────────────
  /** A transfer as staff see it: note and summary masked (issue 17, docs/privacy-masking.md). */
  function viewOf(t: TransferRecord): TransferView {
    return maskTransfer({
      id: t.id,
      sessionId: t.sessionId,
      mode: t.mode,
      status: t.status,
      from: personOf(t.fromAgentId),
      target: t.target,
      targetLabel: t.target.kind === 'agent' ? personOf(t.target.agentId).name : groupName(t.skillGroup),
      offeredTo: t.offeredAgentId ? personOf(t.offeredAgentId) : null,
      skillGroup: t.skillGroup,
      note: t.note,
      summary: t.summary,
      declineReason: t.declineReason,
      createdAt: t.createdAt,
      expiresAt: t.expiresAt,
      decidedAt: t.decidedAt,
      decidedBy: t.decidedBy,
    });
  }

  async function offerOf(t: TransferRecord): Promise<TransferOffer | null> {
    if (t.status !== 'pending') return null;
    const session = await deps.store.getSession(t.sessionId);
    return session ? { transfer: viewOf(t), session: await deps.views.summary(session) } : null;
  }

  // ── target ──────────────────────────────────────────────────────────────────────────────────────
  /** The skill group the contact will be in, after checking the target exists and can take it. */
  function resolveTarget(actor: UserView, session: SessionRecord, to: TransferTarget): string {
    const known = (group: string) => deps.skillGroups.some((g) => g.id === group);
    if (to.kind !== 'agent') {
      const group = to.skillGroup ?? session.skillGroup;
      if (!known(group)) throw new HuiliuError('TRANSFER_TARGET_NOT_FOUND', `No skill group "${group}".`);
      return group;
    }
    if (to.agentId === actor.id) throw new HuiliuError('TRANSFER_TO_SELF');
    const agent = deps.directory.userById(to.agentId);
    if (!agent || !HANDLES_CONTACTS.some((r) => agent.roles.includes(r)))
      throw new HuiliuError('TRANSFER_TARGET_NOT_FOUND', 'No such agent.');
    if (to.skillGroup !== undefined && !known(to.skillGroup))
      throw new HuiliuError('TRANSFER_TARGET_NOT_FOUND', `No skill group "${to.skillGroup}".`);
    // The contact stays in its group when the colleague handles it; else it moves to their (first) group.
    const group = to.skillGroup ?? (agent.skillGroups.includes(session.skillGroup) ? session.skillGroup : agent.skillGroups[0]);
    if (!group || !can(agent, 'session.handle', { skillGroup: group })) throw new HuiliuError('TRANSFER_TARGET_NOT_IN_GROUP');
    return group;
  }

  // ── what the transfer leaves in the conversation ────────────────────────────────────────────────
  /**
   * The staff-only record of the transfer in the transcript (an event message, never sent to the customer).
   * `byId`: who made it, when not the sending agent (a lead's reassign): recorded as `by`.
   */
  async function record(t: TransferRecord, byId?: string): Promise<void> {
    const data: TransferEventData = {
      transferId: t.id,
      mode: t.mode,
      status: t.status,
      from: personOf(t.fromAgentId),
      targetLabel: viewOf(t).targetLabel,
      to: t.status === 'accepted' && t.offeredAgentId ? personOf(t.offeredAgentId) : null,
      skillGroup: t.skillGroup,
      ...(byId && byId !== t.fromAgentId ? { by: personOf(byId) } : {}),
    };
    await deps.store.appendOutbound({
      sessionId: t.sessionId,
      authorId: null,
      authorKind: 'system',
      clientMessageId: `transfer:${t.id}:${t.status}`,
      content: { kind: 'event', body: { name: TRANSFER_EVENT_NAME, data } },
      critical: false,
    });
  }

  /** The customer's language, from their newest message. */
  async function customerLang(session: SessionRecord): Promise<Lang> {
    const last = await deps.store.lastMessage(session.conversationId, { direction: 'in' });
    return last ? detectLang(textOf(last)) : 'en';
  }

  /** Tells the customer, once per transfer, that a colleague takes over (stored and sent on their channel). */
  async function tellCustomer(session: SessionRecord, t: TransferRecord): Promise<void> {
    const text = phrases.transferred(await customerLang(session));
    await sendText({ ...deps, now }, session, {
      actor: 'system',
      authorId: null,
      authorKind: 'system',
      clientMessageId: `transfer:${t.id}:notice`,
      text,
    });
  }

  async function publish(t: TransferRecord, session: SessionRecord, actor: string): Promise<void> {
    const event: EventOf<'transfer.changed'> = newEvent(
      'transfer.changed',
      {
        actor,
        sessionId: session.id,
        conversationId: session.conversationId,
        payload: {
          transferId: t.id,
          mode: t.mode,
          status: t.status,
          fromAgentId: t.fromAgentId,
          target: t.target,
          skillGroup: t.skillGroup,
          offeredAgentId: t.offeredAgentId,
          expiresAt: t.expiresAt,
          session: sessionFacts(session),
        },
      },
      now,
    );
    await deps.bus.publish(event);
  }

  // ── expiry ──────────────────────────────────────────────────────────────────────────────────────
  function schedule(t: Pick<TransferRecord, 'id' | 'expiresAt'>, retryMs = 0): void {
    if (stopped || !t.expiresAt) return;
    clearTimeout(timers.get(t.id));
    const timer = setTimeout(
      () => {
        timers.delete(t.id);
        void end(t.id, { outcome: 'expired' }, 'system')
          .then(({ transfer, changed }) => {
            // The store's clock had not passed expiresAt yet (another thread's or server's): ask again shortly.
            if (!changed && transfer.status === 'pending') schedule(transfer, Math.min(5000, Math.max(100, retryMs * 2)));
          })
          .catch((error: unknown) => log.error({ err: error, transferId: t.id }, 'transfer expiry failed'));
      },
      // A few ms after the store's clock passes expiresAt, so the store agrees it expired.
      Math.max(0, Date.parse(t.expiresAt) - now()) + 5 + retryMs,
    );
    timer.unref();
    timers.set(t.id, timer);
  }

  /** Ends a pending transfer in the store; when this call changed it, tells everyone. */
  async function end(
    transferId: string,
    outcome: Parameters<SessionStore['decideTransfer']>[1],
    actor: string,
  ): Promise<{ transfer: TransferRecord; session: SessionRecord; changed: boolean }> {
    const result = await deps.store.decideTransfer(transferId, outcome);
    if (result.changed) {
      clearTimeout(timers.get(transferId));
      timers.delete(transferId);
      await publish(result.transfer, result.session, actor);
      log.info({ transferId, sessionId: result.session.id, status: result.transfer.status }, 'transfer ended');
    }
    return result;
  }

  /** @throws HuiliuError TRANSFER_TARGET_UNAVAILABLE (`reason` offline | presence) unless the agent is signed in and available. */
  function availableNow(agentId: string): void {
    const state = deps.pool.get(agentId);
    if (!state) throw new HuiliuError('TRANSFER_TARGET_UNAVAILABLE', 'That agent is not signed in.', { reason: 'offline' });
    if (state.presence !== 'available')
      throw new HuiliuError('TRANSFER_TARGET_UNAVAILABLE', `That agent is ${state.presence}.`, { reason: 'presence' });
  }

  /** Cancels the session's pending transfer (its contact closed or left the sender). */
  async function voidPending(sessionId: string): Promise<void> {
    for (const t of await deps.store.transfers(sessionId))
      if (t.status === 'pending') await end(t.id, { outcome: 'cancelled', by: 'system' }, 'system');
  }

  /**
   * A cold transfer (the contact leaves `input.fromAgentId` at once and is routed to the target), made
   * by `actorId`: the agent themself, or a team lead reassigning their contact (issue 16).
   */
  async function cold(session: SessionRecord, input: NewTransfer, actorId: string): Promise<TransferRecord> {
    const { transfer, session: queued } = await deps.store.startTransfer(input);
    await syncCapacity(input.fromAgentId);
    await deps.bus.publish(sessionChanged(queued, 'released', actorId, 'transferred', session));
    await record(transfer, actorId);
    await tellCustomer(queued, transfer);
    await publish(transfer, queued, actorId);
    const to = input.target;
    log.info(
      { transferId: transfer.id, sessionId: session.id, mode: 'cold', to: to.kind, skillGroup: input.skillGroup },
      'contact transferred',
    );
    await deps.router.transferred(session.id, { from: input.fromAgentId, ...(to.kind === 'agent' ? { agentId: to.agentId } : {}) });
    offerWaiting(input.fromAgentId);
    return transfer;
  }

  return {
    async reassign(actor, { sessionId, to, note }) {
      const session = await deps.store.getSession(sessionId);
      if (!session || !can(actor, 'session.view', { skillGroup: session.skillGroup })) throw new HuiliuError('SESSION_NOT_FOUND');
      if (!can(actor, 'session.supervise', { skillGroup: session.skillGroup })) throw new HuiliuError('FORBIDDEN');
      if (session.status === 'closed') throw new HuiliuError('SESSION_CLOSED');
      const holderId = session.status === 'active' ? session.assignedAgentId : null;
      // Waiting contacts are the router's to offer; a lead moves a contact an agent holds.
      if (!holderId)
        throw new HuiliuError('NO_AGENT_ASSIGNED', 'Only a contact an agent holds is reassigned; waiting contacts are routed.');
      const holder = deps.directory.userById(holderId);
      if (!holder) throw new HuiliuError('TRANSFER_TARGET_NOT_FOUND', 'The agent holding the contact is unknown.');
      const target: TransferTarget =
        to.kind === 'agent'
          ? { kind: 'agent', agentId: to.agentId, skillGroup: session.skillGroup }
          : { kind: 'skill-group', skillGroup: session.skillGroup };
      // The target is judged as if the holder transferred it: an agent of the contact's group, not the holder.
      const skillGroup = resolveTarget(holder, session, target);
      // A named agent must be able to take it now (signed in, available), as for a warm transfer:
      // otherwise the customer is told "connecting you" and the contact waits for nobody.
      if (to.kind === 'agent') availableNow(to.agentId);
      const config = await deps.routingConfig();
      const names = { from: holder.displayName, target: to.kind === 'agent' ? personOf(to.agentId).name : groupName(skillGroup) };
      const decision = transferDecision(session.routing, { from: holderId, target, mode: 'cold', skillGroup, at: iso(), names }, config);
      // The decision log says who moved it: the lead, on the holder's behalf.
      decision.reasons = decision.reasons.map((r) =>
        r.factor === 'transfer' ? { ...r, note: `${r.note}; reassigned by ${actor.displayName}` } : r,
      );
      const transfer = await cold(
        session,
        {
          sessionId,
          fromAgentId: holderId,
          mode: 'cold',
          target,
          skillGroup,
          decision,
          note: note || `Reassigned by ${actor.displayName}`,
        },
        actor.id,
      );
      return viewOf(transfer);
    },

    async undoCold(transferId, before) {
      const found = await deps.store.getTransfer(transferId);
      if (!found) throw new HuiliuError('TRANSFER_NOT_FOUND');
      const waiting = await deps.store.getSession(found.sessionId);
      const to = deps.pool.get(found.fromAgentId) ? 'sender' : 'queue';
      const decision: RoutingDecision | null = before.routing
        ? {
            ...before.routing,
            trigger: to === 'sender' ? 'transferred' : 'released',
            offeredAt: iso(),
            offeredTo: to === 'sender' ? found.fromAgentId : null,
          }
        : null;
      const { transfer, session, changed } = await deps.store.undoTransfer(transferId, { to, skillGroup: before.skillGroup, decision });
      if (!changed) return { session, to: null };
      // The target's offer (and its timer) is gone with the write.
      deps.router.settle(session.id);
      await syncCapacity(found.fromAgentId);
      await deps.bus.publish(
        sessionChanged(session, to === 'sender' ? 'accepted' : 'released', 'system', 'transferred', waiting ?? undefined),
      );
      await record(transfer);
      await publish(transfer, session, 'system');
      log.info({ transferId, sessionId: session.id, to }, 'cold transfer undone');
      if (to === 'queue') await deps.router.reoffer(session.id, found.fromAgentId);
      return { session: (await deps.store.getSession(session.id)) ?? session, to };
    },

    async start() {
      for (const t of await deps.store.pendingTransfers()) schedule(t);
      subs.push(
        await deps.bus.subscribe(
          'session.changed',
          'transfers',
          onceById(async ({ sessionId, payload }) => {
            if (payload.reason === 'closed' || payload.reason === 'released') await voidPending(sessionId);
          }),
        ),
      );
    },

    async stop() {
      stopped = true;
      for (const t of timers.values()) clearTimeout(t);
      timers.clear();
      await Promise.all(subs.map((s) => s.unsubscribe()));
    },

    async transfer(actor, { sessionId, to, mode, note }) {
      const session = await handled(actor, sessionId);
      if (session.status === 'closed') throw new HuiliuError('SESSION_CLOSED');
      if (session.status !== 'active' || session.assignedAgentId !== actor.id) throw new HuiliuError('NOT_ASSIGNED');
      if (mode === 'warm' && session.channel === 'SP')
        throw new HuiliuError('VALIDATION_FAILED', 'A call is transferred cold.', [
          { path: 'mode', message: 'warm transfers are for chats' },
        ]);
      const skillGroup = resolveTarget(actor, session, to);
      const config = await deps.routingConfig();
      const at = iso();
      const names = {
        from: actor.displayName,
        target: to.kind === 'agent' ? personOf(to.agentId).name : groupName(skillGroup),
      };
      const base = transferDecision(session.routing, { from: actor.id, target: to, mode, skillGroup, at, names }, config);
      const summary = deps.summarize
        ? await deps.summarize(session).catch((error: unknown) => {
            log.warn({ err: error, sessionId }, 'summary failed; transferring without one');
            return undefined;
          })
        : undefined;
      const common = {
        sessionId,
        fromAgentId: actor.id,
        mode,
        target: to,
        skillGroup,
        ...(note ? { note } : {}),
        ...(summary ? { summary } : {}),
      };

      if (mode === 'cold') return viewOf(await cold(session, { ...common, decision: base }, actor.id));

      // Warm: who is offered it, as the router would choose for a group, or the named agent if they can take it now.
      let decision: RoutingDecision;
      let agentId: string;
      if (to.kind === 'agent') {
        availableNow(to.agentId);
        agentId = to.agentId;
        decision = {
          ...base,
          offeredTo: agentId,
          assignment: 'warm transfer to the agent named by the sender',
          // Issue 15: the same phrases as codes, worded by the desk (`routing:reasons.*`).
          assignmentDetails: [{ code: 'warm-transfer-named' }],
          candidates: [
            { agentId, chosen: true, reasons: ['named by the transfer'], codes: ['chosen'], details: [{ code: 'named-by-transfer' }] },
            {
              agentId: actor.id,
              chosen: false,
              reasons: ['transferring this contact away'],
              codes: ['transfer-source'],
              details: [{ code: 'transfer-source' }],
            },
          ],
        };
      } else {
        const pick = await deps.router.transferCandidate(session, base, actor.id);
        if (!pick) throw new HuiliuError('TRANSFER_TARGET_UNAVAILABLE', undefined, { reason: 'nobody-available' });
        agentId = pick.agentId;
        decision = {
          ...base,
          offeredTo: agentId,
          assignment: `warm transfer: ${pick.why}`,
          ...(pick.whyDetails ? { assignmentDetails: [{ code: 'warm-transfer' }, ...pick.whyDetails] } : {}),
          candidates: pick.candidates,
        };
      }
      decision.offerConfigVersion = config.version;
      const expiresAt = new Date(now() + config.offerTimeoutMs).toISOString();
      const { transfer, session: kept } = await deps.store.startTransfer({
        ...common,
        decision,
        offer: { agentId, expiresAt, capacity: config.capacity },
      });
      schedule(transfer);
      await publish(transfer, kept, actor.id);
      log.info({ transferId: transfer.id, sessionId, mode, to: to.kind, skillGroup, offeredTo: agentId }, 'warm transfer offered');
      return viewOf(transfer);
    },

    async accept(actor, transferId) {
      const t = await partyOf(actor, transferId, 'to');
      if (t.status !== 'pending') throw new HuiliuError('TRANSFER_NOT_PENDING');
      if (!can(actor, 'session.handle', { skillGroup: t.skillGroup })) throw new HuiliuError('FORBIDDEN');
      const before = await deps.store.getSession(t.sessionId);
      const { transfer, session, changed } = await end(transferId, { outcome: 'accepted', by: actor.id }, actor.id);
      if (!changed) {
        // The contact closed or left its sender meanwhile: the transfer is over, say so to both.
        if (transfer.status === 'pending' && !(session.status === 'active' && session.assignedAgentId === t.fromAgentId))
          await end(transferId, { outcome: 'cancelled', by: 'system' }, 'system');
        throw new HuiliuError('TRANSFER_NOT_PENDING');
      }
      await Promise.all([syncCapacity(actor.id), syncCapacity(t.fromAgentId)]);
      await deps.bus.publish(sessionChanged(session, 'accepted', actor.id, 'transferred', before ?? undefined));
      await record(transfer);
      await tellCustomer(session, transfer);
      offerWaiting(t.fromAgentId);
      return deps.views.detail(session, actor);
    },

    async decline(actor, transferId, reason) {
      await partyOf(actor, transferId, 'to');
      const { transfer, changed } = await end(transferId, { outcome: 'declined', by: actor.id, ...(reason ? { reason } : {}) }, actor.id);
      if (!changed) throw new HuiliuError('TRANSFER_NOT_PENDING');
      return viewOf(transfer);
    },

    async cancel(actor, transferId) {
      await partyOf(actor, transferId, 'from');
      const { transfer, changed } = await end(transferId, { outcome: 'cancelled', by: actor.id }, actor.id);
      if (!changed) throw new HuiliuError('TRANSFER_NOT_PENDING');
      return viewOf(transfer);
    },

    async targets(actor, sessionId) {
      await handled(actor, sessionId);
      const shares = (groups: readonly string[]) => groups.some((g) => actor.skillGroups.includes(g));
      const agents = deps.skillGroups
        .flatMap((g) => deps.pool.inGroup(g.id))
        .filter((a, i, all) => a.id !== actor.id && all.findIndex((b) => b.id === a.id) === i)
        .map((a) => ({
          id: a.id,
          name: a.displayName,
          skillGroups: [...a.skillGroups],
          presence: a.presence,
          activeChats: a.activeChats,
          sharesGroup: shares(a.skillGroups),
          expert: a.expert,
        }))
        .sort(
          (x, y) =>
            Number(y.sharesGroup) - Number(x.sharesGroup) ||
            Number(y.presence === 'available') - Number(x.presence === 'available') ||
            x.name.localeCompare(y.name),
        );
      return { agents, skillGroups: deps.skillGroups.map((g) => ({ id: g.id, name: g.name })) };
    },

    async view(transferId) {
      const t = await deps.store.getTransfer(transferId);
      return t ? viewOf(t) : null;
    },

    async offer(transferId) {
      const t = await deps.store.getTransfer(transferId);
      return t ? offerOf(t) : null;
    },

    async offersFor(agentId) {
      const offers = await Promise.all((await deps.store.pendingTransfers({ offeredAgentId: agentId })).map(offerOf));
      return offers.filter((o): o is TransferOffer => o !== null);
    },

    async detailExtras(session, viewer) {
      const all = await deps.store.transfers(session.id);
      for (const t of all.reverse()) {
        if (t.status === 'pending' && t.fromAgentId === viewer.id) return { transfer: viewOf(t) };
        if (t.status === 'accepted' || t.status === 'routed') return { transfer: viewOf(t) };
      }
      return {};
    },
  };
}
