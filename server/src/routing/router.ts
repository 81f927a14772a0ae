import type {
  CandidateCode,
  ReasonText,
  RoutingCandidate,
  RoutingConfig,
  RoutingDecision,
  RoutingTrigger,
} from '../../../common/routing/types';
import { textOf, type Envelope } from '../../../common/message/envelope';
import { HuiliuError } from '../../../common/errors/codes';
import { transcriptEmotionOf } from '../../../common/message/transcript';
import type { EmotionResult } from '../../../common/ai/types';
import type { Bus, Subscription } from '../bus/bus';
import { sessionChanged } from '../bus/events';
import type { Logger } from '../logging/logger';
import type { Metrics } from '../metrics/metrics';
import type { SessionRecord, SessionStore } from '../sessions/store';
import type { AgentPool, AgentState } from './agent-pool';
import {
  channelKindOf,
  compareWaiting,
  groupsReaching,
  proficiencyOf,
  ringAt,
  roomFor,
  selectAgents,
  waitingContact,
  type EngineAgent,
  type EngineContact,
} from './engine';
import { scoreContact, type ContactFacts, type ContactScore, type ValueFacts } from './score';

export interface RouterDeps {
  store: SessionStore;
  bus: Bus;
  pool: AgentPool;
  /**
   * The routing config, read at each decision (`RoutingConfigStore.current` in the server), so a
   * published version applies from the next decision on, on every node.
   */
  config: () => RoutingConfig | Promise<RoutingConfig>;
  /** Customer value facts: the server passes the `CustomerFacts` port (customers/facts.ts); absent: contact counts only. */
  valueFacts?: (customerId: string, contacts30d: number) => Promise<ValueFacts>;
  /**
   * Scores a contact; default `scoreContact` on this thread. The server passes one that sends long
   * texts to the CPU pool (`workers/pool.ts`), so a burst of heavy scoring never stalls the sockets.
   */
  score?: (facts: ContactFacts) => ContactScore | Promise<ContactScore>;
  /**
   * Whether the AI tier answers now (issue 10: `ai.autoAnswer.enabled` and a knowledge-base model
   * loaded). Absent or false: `ai`-tier contacts go to a person and the explanation says why.
   */
  aiTier?: () => { available: true } | { available: false; why: string };
  logger: Logger;
  now?: () => number;
  /** Issue 16: offers made and how they ended, in `huiliu_offers_total{outcome}`. */
  metrics?: Pick<Metrics, 'offers'>;
}

export interface Router {
  start(): Promise<void>;
  /** Scores a new session from its first message and offers it. */
  route(envelope: Envelope): Promise<SessionRecord>;
  /** Offers waiting contacts to an agent who just became free. */
  agentAvailable(agentId: string): Promise<void>;
  /** The agent went offline or away: their pending offers go to the next agent now. */
  agentGone(agentId: string): Promise<void>;
  /**
   * The agent's last connection closed: if they are not back within `reassignAfterMs`, their active
   * chats return to the queue and are offered again. Coming back (`agentAvailable`) cancels it.
   */
  agentDisconnected(agentId: string): void;
  /**
   * The agent signed out (logout, revoked token) and has no connection left: their active chats go
   * back to the queue and are offered again now, without waiting for `reassignAfterMs`.
   */
  agentSignedOut(agentId: string): Promise<void>;
  /**
   * A session its agent handed back (now `queued`): offered again, other agents first. Resolves with
   * the session as routed, or null when it is no longer waiting (taken or closed meanwhile).
   */
  reoffer(sessionId: string, declinedBy: string): Promise<SessionRecord | null>;
  /**
   * The AI tier handed the session to people (now `queued`): offered at once, with the hand-over in
   * the explanation. Resolves with the session as routed, or null when it is no longer waiting.
   */
  handedOver(sessionId: string): Promise<SessionRecord | null>;
  /**
   * The agent declined the offer of `sessionId` (pressed Decline): it goes to the next agent now and
   * they are in cool-down for it; the decision log records it (trigger `declined`, with `reason`).
   * Errors: OFFER_TAKEN when the session is not (or no longer) offered to this agent.
   */
  declined(sessionId: string, agentId: string, reason?: string): Promise<void>;
  /** The session was claimed or closed: stop its offer timer. */
  settle(sessionId: string): void;
  // ── Transfers (issue 11; conversations/transfers.ts) ──────────────────────────────────────────
  /**
   * A cold transfer put the session back to `queued` under its transfer decision (`routing.transfer`,
   * new skill group or tier): it is offered now, the transferring agent `from` last. To a named agent
   * (`agentId`): offered to them alone, whatever their load (a person chose them), for one offer
   * time-out; then, like any lapsed offer, to the agents of its skill group. Resolves with the session
   * as routed, or null when it is no longer waiting.
   */
  transferred(sessionId: string, options: { from: string; agentId?: string }): Promise<SessionRecord | null>;
  /**
   * Issue 18, a blind transfer's recall: `sessionId` is offered to `missedBy` (the transfer's target),
   * whose phone did not answer; it goes back to `agentId` (the agent who transferred it) alone, for one
   * offer time-out, when they are signed in here, `available`, in the contact's skill group now (a
   * transfer to a colleague of another group moved it there) and have room for it. The offer moves in
   * one compare-and-set on "offered to `missedBy`"; `missedBy` cools down for it. Resolves with the session
   * offered to `agentId`, or null when they cannot take it (or the offer moved on meanwhile): the caller
   * then declines the offer as usual (`declined`: the next agent, or the queue).
   */
  recall(sessionId: string, missedBy: string, agentId: string): Promise<SessionRecord | null>;
  /**
   * A warm transfer to a skill group or the expert tier: the agent the router would offer `session`
   * under `decision` (its skill group and tier, as a contact that starts waiting now: the tier's first
   * widening ring) to now, never `exclude` (the transferring agent: `transfer-source`), and why;
   * nothing is written. Null when nobody qualifies with room now.
   */
  transferCandidate(
    session: SessionRecord,
    decision: RoutingDecision,
    exclude: string,
  ): Promise<{ agentId: string; why: string; whyDetails?: ReasonText[]; candidates: RoutingCandidate[] } | null>;
  // ── end of transfers ──────────────────────────────────────────────────────────────────────────
  stop(): Promise<void>;
}

const DAY = 86_400_000;
/** How many queued contacts `agentAvailable` reads per order (oldest first, highest priority first). */
const QUEUE_PAGE = 250;

/** Whether `agent` qualifies for `contact` at `now` as far as ring and room go (a cheap pre-check of `selectAgents`). */
function couldTake(agent: AgentState, contact: EngineContact, config: RoutingConfig, now: number): boolean {
  const ring = ringAt(config, contact.tier, contact.skillGroup, now - contact.queuedAt);
  const reaches = ring.skillGroups.some((g) => agent.skillGroups.includes(g) && proficiencyOf(config, agent, g) >= ring.minProficiency);
  return reaches && roomFor({ load: { chat: agent.activeChats, voice: 0 } }, contact.channelKind, config.capacity).ok;
}
const TIER_RANK = { ai: 0, assisted: 1, expert: 2 } as const;

/** A call transcript's speech emotion (issue 18), scored in place of its text's: `{emotion}` or nothing. */
function heardEmotion(envelope: Envelope): { emotion?: EmotionResult } {
  const emotion = transcriptEmotionOf(envelope.meta);
  return emotion ? { emotion } : {};
}

/** An agent the selection ranked whom the store found without room when the offer was written. */
interface Skipped {
  code: CandidateCode;
  note: string;
  /** `note` as translatable phrases (issue 15). */
  details: ReasonText[];
}

/** An agent the store found without `room` (its `load`: active sessions + pending offers), in words and as phrases. */
function fullBy(
  room: { code: 'at-capacity' | 'mixed-load'; note: string; detail: ReasonText },
  load: { active: number; offered: number },
): Skipped {
  return {
    code: room.code,
    note: `${room.note} (${load.active} active + ${load.offered} offered)`,
    details: [room.detail, { code: 'store-load', params: { active: load.active, offered: load.offered } }],
  };
}

/**
 * The selection's candidates as the offer turned out: agents the store found without room say so, the
 * agent offered (null: nobody) is the one `chosen`.
 */
function explain(
  candidates: readonly RoutingCandidate[],
  chosenId: string | null,
  skipped: ReadonlyMap<string, Skipped>,
): RoutingCandidate[] {
  return candidates.map((c) => {
    const why = skipped.get(c.agentId);
    if (why) return { ...c, chosen: false, reasons: [why.note], details: why.details, codes: [why.code] };
    if (c.agentId === chosenId && !c.chosen)
      return {
        ...c,
        chosen: true,
        reasons: [`best qualified agent with room (those ranked above are full): ${c.reasons.join('; ')}`],
        ...(c.details ? { details: [{ code: 'ranked-above-full' }, ...c.details] } : {}),
        codes: ['chosen'],
      };
    return c;
  });
}

/**
 * First version of the router (DESIGN §5): the score, the tiers and the stored explanation are the
 * real formula; assignment is capacity → expert preference → fewest chats → longest idle, with
 * offers that time out to the next agent. An `ai`-tier contact goes to the AI tier (status `bot`,
 * `ai/tier/`) when it is available, else to a person with the reason in the explanation; the AI
 * tier hands it back through `handedOver` (handing over is never a dead end).
 *
 * State that decides who gets a contact lives in the store, so several routers on one database agree:
 * an agent's load is the store's active sessions plus pending offers (`SessionStore.agentLoad`), and
 * the offer is written only if the agent still has room, in the same atomic write
 * (`saveRouting` with `capacity`). Each decision, first or re-offer, is appended to the store's
 * decision log with its facts, config versions and every candidate's reasons. Only timers and the
 * per-contact list of agents who let an offer lapse are this process's own.
 */
export function createRouter(deps: RouterDeps): Router {
  const now = deps.now ?? Date.now;
  const timers = new Map<string, NodeJS.Timeout>();
  /** Per contact: agents who let its offer lapse or left, and when (ms). A preference, never a ban. */
  const declined = new Map<string, Map<string, number>>();
  const retryTimers = new Map<string, NodeJS.Timeout>();
  const reassignTimers = new Map<string, NodeJS.Timeout>();
  /** The pending `agentDisconnected` of each agent, until its timer is set: cancelling drops it. */
  const reassignTokens = new Map<string, object>();
  const subs: Subscription[] = [];
  const log = deps.logger.child({ component: 'router' });
  // Once stopped (shutdown), late events — an agent socket closing, a timer — change nothing.
  let stopped = false;

  /**
   * The customer's contacts opened in the last 30 days (at most 1,000): one indexed count instead of
   * listing (and parsing) up to 1,000 sessions per new contact (issue 18: a repeat caller's history made
   * every call's routing read all of it).
   */
  async function contacts30d(customerId: string): Promise<number> {
    const createdSince = new Date(now() - 30 * DAY).toISOString();
    return Math.min(1000, await deps.store.countSessions({ customerId, contactsOnly: true, createdSince }));
  }

  /** The engine's view of the agents signed in on this node (load: active chats; offers are checked in the store). */
  function agentsNow(): EngineAgent[] {
    return deps.pool.all().map((a) => ({
      id: a.id,
      username: a.username,
      skillGroups: a.skillGroups,
      expert: a.expert,
      presence: a.presence,
      load: { chat: a.activeChats, voice: 0 },
      idleSince: a.idleSince,
    }));
  }

  /**
   * Offers the session to the best qualified agent with room (`engine.ts selectAgents`; room checked
   * again by the store in the same write), or queues it; appends the decision to the log either way.
   * A queued contact is tried again when its next widening ring opens or a cool-down ends.
   */
  async function offer(session: SessionRecord, decision: RoutingDecision, trigger: RoutingTrigger): Promise<SessionRecord> {
    const config = await deps.config();
    const t = now();
    const contact = waitingContact(session, decision);
    const declinedHere = declined.get(session.id);
    const selection = selectAgents(contact, agentsNow(), config, t, {
      ...(declinedHere ? { declined: declinedHere } : {}),
      // Issue 11: a transfer's own offer never goes back to the agent transferring it (`transfer-source`).
      ...(trigger === 'transferred' && decision.transfer ? { exclude: new Set([decision.transfer.from]) } : {}),
    });
    const base: RoutingDecision = {
      ...decision,
      trigger,
      offerConfigVersion: config.version,
      offeredAt: new Date(t).toISOString(),
      effectivePriority: selection.effectivePriority,
      waitedMs: selection.waitedMs,
      ring: { index: selection.ring.index, minProficiency: selection.ring.minProficiency, skillGroups: selection.ring.skillGroups },
    };
    const expiresAt = new Date(t + config.offerTimeoutMs).toISOString();
    // Compare-and-set on the offer this decision saw: another router's newer offer is never clobbered.
    const seen = { offeredAgentId: session.status === 'offered' ? session.offeredAgentId : null };
    /** Agents the store found full, with why: they are explained as such, never as chosen. */
    const full = new Map<string, Skipped>();
    const capacity = { kind: contact.channelKind, limits: config.capacity };

    for (const agent of selection.ranked) {
      const load = await deps.store.agentLoad(agent.id);
      // This session's own pending offer to the agent does not count against them.
      const own = session.status === 'offered' && session.offeredAgentId === agent.id ? 1 : 0;
      const held = {
        chat: load.byKind.chat - (contact.channelKind === 'chat' ? own : 0),
        voice: load.byKind.voice - (contact.channelKind === 'voice' ? own : 0),
      };
      const room = roomFor({ load: held }, contact.channelKind, config.capacity);
      if (!room.ok) {
        full.set(agent.id, fullBy(room, load));
        continue;
      }
      const candidates = explain(selection.candidates, agent.id, full);
      const chosen = candidates.find((c) => c.agentId === agent.id);
      const next: RoutingDecision = {
        ...base,
        offeredTo: agent.id,
        assignment: chosen?.reasons.join('; ') ?? '',
        ...(chosen?.details ? { assignmentDetails: chosen.details } : {}),
        candidates,
      };
      const { session: saved, applied } = await deps.store.saveRouting(session.id, next, { agentId: agent.id, expiresAt, capacity }, seen);
      if (applied) deps.metrics?.offers.inc({ outcome: 'offered' });
      // Applied; or taken/closed; or another router changed the offer since we looked: its decision stands.
      if (applied || (saved.status !== 'queued' && saved.status !== 'offered') || saved.offeredAgentId !== seen.offeredAgentId)
        return settled(session, saved, config.offerTimeoutMs, trigger);
      // Another router filled the agent between our look and our write: the store refused; try the next.
      full.set(agent.id, { code: 'lost-race', note: "full: another server's offer took the last slot", details: [{ code: 'lost-race' }] });
    }
    const waitReason =
      selection.ranked.length > 0
        ? `every qualified agent is full; waiting in queue`
        : selection.coolingEndsAt !== null
          ? 'only agents who just declined or missed it qualify; offered to them again after their cool-down'
          : `no available agent in ${selection.ring.skillGroups.join(' / ')} qualifies yet; waiting in queue`;
    const waitDetail: ReasonText =
      selection.ranked.length > 0
        ? { code: 'wait-all-full' }
        : selection.coolingEndsAt !== null
          ? { code: 'wait-cool-down' }
          : { code: 'wait-none-qualifies', params: { groups: selection.ring.skillGroups.join(' / ') } };
    const next: RoutingDecision = {
      ...base,
      offeredTo: null,
      assignment: waitReason,
      assignmentDetails: [waitDetail],
      candidates: explain(selection.candidates, null, full),
    };
    const { session: saved } = await deps.store.saveRouting(session.id, next, null, seen);
    if (saved.status === 'queued') {
      // Try again when the next ring opens (more agents qualify) or a cool-down ends, whichever is first.
      const ringAtMs = selection.ring.nextAtMs === null ? Infinity : contact.queuedAt + selection.ring.nextAtMs;
      const coolAtMs = selection.coolingEndsAt ?? Infinity;
      const at = Math.min(ringAtMs, coolAtMs);
      if (at !== Infinity) retryAfter(session.id, at - now(), ringAtMs <= coolAtMs ? 'widened' : 'cooled-down');
    }
    return settled(session, saved, config.offerTimeoutMs, trigger);
  }

  /** `before`: the session as this decision found it, so the event can name an offer it withdrew. */
  async function settled(
    before: SessionRecord,
    saved: SessionRecord,
    offerTimeoutMs: number,
    trigger: RoutingTrigger,
  ): Promise<SessionRecord> {
    if (saved.status === 'offered' && saved.offeredAgentId) schedule(saved.id, saved.offeredAgentId, offerTimeoutMs);
    await deps.bus.publish(sessionChanged(saved, 'routed', 'system', trigger, before));
    return saved;
  }

  function schedule(sessionId: string, agentId: string, ms: number): void {
    clearTimeout(timers.get(sessionId));
    const timer = setTimeout(() => {
      timers.delete(sessionId);
      void expire(sessionId, agentId).catch((error: unknown) => log.error({ err: error, sessionId }, 'offer expiry failed'));
    }, ms);
    timer.unref();
    timers.set(sessionId, timer);
  }

  /** Other agents go first for this contact (the agent timed out on it, or left); see `offer`. */
  function decline(sessionId: string, agentId: string): void {
    let lapsed = declined.get(sessionId);
    if (!lapsed) declined.set(sessionId, (lapsed = new Map()));
    lapsed.set(agentId, now());
  }

  /** Offers a still-waiting contact again after `ms`: its next widening ring opened, or a cool-down ended. */
  function retryAfter(sessionId: string, ms: number, trigger: 'widened' | 'cooled-down'): void {
    clearTimeout(retryTimers.get(sessionId));
    const timer = setTimeout(
      () => {
        retryTimers.delete(sessionId);
        void (async () => {
          if (stopped) return;
          const s = await deps.store.getSession(sessionId);
          if (s?.status === 'queued' && s.routing) await offer(s, s.routing, trigger);
        })().catch((error: unknown) => log.error({ err: error, sessionId }, 're-offering a waiting contact failed'));
      },
      Math.max(0, ms) + 10,
    );
    timer.unref();
    retryTimers.set(sessionId, timer);
  }

  /**
   * A waiting contact's new message is scored (difficulty and emotion); when its priority rises it is
   * offered again under the higher priority, and its tier may go up — never down (the score of a
   * calmer message does not lower the contact, and nothing sends a contact back to the AI). Contacts
   * with an agent already (offered, active) keep their offer; the AI tier rescores its own.
   */
  async function rescore(envelope: Envelope): Promise<void> {
    if (stopped || envelope.direction !== 'in') return;
    const session = await deps.store.getSession(envelope.sessionId);
    if (session?.status !== 'queued' || !session.routing) return;
    const before = session.routing;
    const config = await deps.config();
    const value = before.facts?.value ?? { spend: 0, csat: null, contacts30d: 1 };
    const scored = await (deps.score ?? scoreContact)({
      value,
      difficulty: {
        text: textOf(envelope),
        channel: session.channel,
        contacts30d: before.facts?.difficulty.contacts30d ?? value.contacts30d,
        ...heardEmotion(envelope),
      },
      config,
    });
    // Under the config the contact was scored with: a raise, never a fall.
    const difficulty = Math.max(before.difficultyScore, scored.difficulty.score);
    const priority = Math.round((before.valueScore * before.weights.value + difficulty * before.weights.difficulty) * 100) / 100;
    if (priority <= before.priority) return;
    const tierNow = priority > before.thresholds.expert ? 'expert' : priority > before.thresholds.assisted ? 'assisted' : 'ai';
    const tier = TIER_RANK[tierNow] > TIER_RANK[before.tier] ? tierNow : before.tier;
    const decision: RoutingDecision = {
      ...before,
      difficultyScore: difficulty,
      priority,
      tier,
      reasons: [
        ...before.reasons,
        {
          factor: 'rescored',
          points: Math.round((priority - before.priority) * 100) / 100,
          note: `a new message raised difficulty ${before.difficultyScore} → ${difficulty}: priority ${before.priority} → ${priority}${tier !== before.tier ? `, tier ${before.tier} → ${tier}` : ''}`,
          code: tier !== before.tier ? 'rescored-tier' : 'rescored',
          params: {
            fromDifficulty: before.difficultyScore,
            toDifficulty: difficulty,
            fromPriority: before.priority,
            toPriority: priority,
            ...(tier !== before.tier ? { fromTier: before.tier, toTier: tier } : {}),
          },
        },
      ],
    };
    log.info({ sessionId: session.id, priority, tier }, 'waiting contact rescored up');
    await offer(session, decision, 'rescored');
  }

  async function reassign(agentId: string): Promise<void> {
    if (stopped || deps.pool.get(agentId)) return; // back in the meantime
    const theirs = await deps.store.listSessions({ status: ['active'], assignedAgentId: agentId });
    for (const s of theirs) {
      const released = await deps.store.release(s.id, agentId);
      if (!released) continue;
      log.info({ sessionId: s.id, agentId }, 'agent gone; chat back to the queue');
      await deps.bus.publish(sessionChanged(released, 'released', 'system'));
      if (released.routing) {
        decline(s.id, agentId);
        await offer(released, released.routing, 'released');
      }
    }
  }

  async function expire(
    sessionId: string,
    agentId: string,
    trigger: 'timeout' | 'agent-gone' | 'declined' = 'timeout',
    reason?: string,
  ): Promise<boolean> {
    if (stopped) return false;
    const session = await deps.store.getSession(sessionId);
    if (!session || session.status !== 'offered' || session.offeredAgentId !== agentId || !session.routing) return false;
    decline(sessionId, agentId);
    deps.metrics?.offers.inc({ outcome: trigger });
    if (trigger === 'declined') {
      clearTimeout(timers.get(sessionId));
      timers.delete(sessionId);
      log.info({ sessionId, agentId }, 'offer declined; offering to the next agent');
      const note = `declined by ${agentId}${reason ? `: ${reason}` : ''}`;
      const routing: RoutingDecision = {
        ...session.routing,
        // The agent's own words stay in the English note only: params never carry free text.
        reasons: [...session.routing.reasons.filter((r) => r.factor !== 'declined'), { factor: 'declined', note, code: 'declined' }],
      };
      await offer(session, routing, 'declined');
      return true;
    }
    log.info(
      { sessionId, agentId },
      trigger === 'timeout' ? 'offer timed out; offering to the next agent' : 'agent gone; offering to the next agent',
    );
    await offer(session, session.routing, trigger);
    return true;
  }

  /**
   * A customer went on from another channel (issue 12): the new session took the old one's state. An
   * active one stays with its agent and one with the AI stays there (nothing to route); a waiting one
   * keeps its decision and place in the queue and is offered now (trigger `moved`); one never scored
   * is routed as new.
   */
  async function carryOn(envelope: Envelope): Promise<void> {
    const session = await deps.store.getSession(envelope.sessionId);
    if (!session || session.status !== 'queued') return;
    if (session.routing) await offer(session, session.routing, 'moved');
    else await router.route(envelope);
  }

  function cancelReassign(agentId: string): void {
    clearTimeout(reassignTimers.get(agentId));
    reassignTimers.delete(agentId);
    reassignTokens.delete(agentId);
  }

  const router: Router = {
    async start() {
      subs.push(
        await deps.bus.subscribe('message.in', 'router', async ({ payload: { envelope, newSession, movedFrom } }) => {
          if (newSession && movedFrom) await carryOn(envelope);
          else if (newSession) await router.route(envelope);
          else await rescore(envelope);
        }),
      );
      // Crash recovery: contacts stored but never routed, or offered before a restart.
      for (const s of await deps.store.listSessions({ status: ['queued', 'offered'], limit: 5000 })) {
        try {
          if (!s.routing) {
            const first = await deps.store.listMessages(s.conversationId, { limit: 1 });
            if (first[0]) await router.route(first[0]);
          } else {
            await offer(s, s.routing, 'recovery');
          }
        } catch (error) {
          // A contact of a customer erased meanwhile (redis mode: erased on the cluster while this node
          // was down) is not recovered; it failed the whole start (CUSTOMER_ERASED from its messages).
          if (!(error instanceof HuiliuError && error.code === 'CUSTOMER_ERASED')) throw error;
          log.warn({ sessionId: s.id }, 'a queued contact of an erased customer was not recovered');
        }
      }
    },

    async route(envelope) {
      const session = await deps.store.getSession(envelope.sessionId);
      if (!session) throw new Error(`session ${envelope.sessionId} vanished`);
      if (session.routing) return session;
      const config = await deps.config();
      const contacts = await contacts30d(session.customerId);
      const facts = deps.valueFacts ? await deps.valueFacts(session.customerId, contacts) : { spend: 0, csat: null, contacts30d: contacts };
      const aiTier = deps.aiTier?.() ?? { available: false as const, why: 'not configured' };
      const { value, difficulty, priority, tier } = await (deps.score ?? scoreContact)({
        value: facts,
        difficulty: { text: textOf(envelope), channel: session.channel, contacts30d: contacts, ...heardEmotion(envelope) },
        config,
      });
      const decision: RoutingDecision = {
        valueScore: value.score,
        difficultyScore: difficulty.score,
        priority,
        tier,
        configVersion: config.version,
        weights: { ...config.weights },
        thresholds: { ...config.thresholds },
        skillGroup: session.skillGroup,
        reasons: [
          ...value.reasons.map((r) => ({ ...r, factor: `value.${r.factor}` })),
          ...difficulty.reasons.map((r) => ({ ...r, factor: `difficulty.${r.factor}` })),
          {
            factor: 'tier',
            note: `priority ${priority} = ${value.score}×${config.weights.value} + ${difficulty.score}×${config.weights.difficulty} → ${tier} (expert > ${config.thresholds.expert}, assisted > ${config.thresholds.assisted})`,
            code: 'tier',
            params: {
              priority,
              value: value.score,
              wValue: config.weights.value,
              difficulty: difficulty.score,
              wDifficulty: config.weights.difficulty,
              tier,
              expert: config.thresholds.expert,
              assisted: config.thresholds.assisted,
            },
          },
          ...(tier === 'ai'
            ? [
                aiTier.available
                  ? {
                      factor: 'ai',
                      note: 'AI tier: answers from the knowledge base, hands over to a person when unsure or asked',
                      code: 'ai-tier',
                    }
                  : { factor: 'handover', note: `AI tier not answering (${aiTier.why}): handed to a person`, code: 'ai-tier-off' },
              ]
            : tier === 'assisted'
              ? [{ factor: 'assist', note: 'assisted tier: an AI draft is prepared for the agent to review', code: 'assisted-tier' }]
              : []),
        ],
        offeredTo: null,
        assignment: '',
        decidedAt: new Date(now()).toISOString(),
        facts: {
          value: { spend: facts.spend, csat: facts.csat, contacts30d: facts.contacts30d },
          difficulty: { messageId: envelope.id, channel: session.channel, contacts30d: contacts },
        },
      };
      if (tier === 'ai' && aiTier.available) {
        const bot: RoutingDecision = {
          ...decision,
          trigger: 'new',
          assignment: 'with the AI tier',
          assignmentDetails: [{ code: 'with-ai-tier' }],
          offeredAt: decision.decidedAt,
        };
        const { session: saved, applied } = await deps.store.startBot(session.id, bot);
        if (applied) {
          await deps.bus.publish(sessionChanged(saved, 'routed', 'system', 'new', session));
          return saved;
        }
        // Routed by another router meanwhile: its decision stands.
        if (saved.routing) return saved;
      }
      return offer(session, decision, 'new');
    },

    async handedOver(sessionId) {
      if (stopped) return null;
      const session = await deps.store.getSession(sessionId);
      if (session?.status !== 'queued' || !session.routing) return null;
      const h = session.handover;
      const note = h
        ? `handed over by ${h.by === 'ai' ? 'the AI' : h.by} (${h.reason})${h.noAgentOnline ? '; no agent was online: the customer may leave a message' : ''}`
        : 'handed over';
      const routing: RoutingDecision = {
        ...session.routing,
        reasons: [...session.routing.reasons.filter((r) => r.factor !== 'ai'), { factor: 'handover', note }],
      };
      return offer(session, routing, 'handed-over');
    },

    async agentAvailable(agentId) {
      if (stopped) return;
      cancelReassign(agentId);
      const agent = deps.pool.get(agentId);
      if (!agent || agent.presence !== 'available') return;
      // Back, or ready again: contacts they missed earlier may be theirs again at once.
      for (const lapsed of declined.values()) lapsed.delete(agentId);
      // The queue in the engine's order (priority + aging, then first come first served), from the
      // groups this agent may serve: their own and those whose widening rings reach them. Two pages —
      // longest waiting and highest priority — hold the head of the queue under any aging setting that
      // matters in practice; each contact goes to its best agent, who may be someone else.
      const config = await deps.config();
      const groups = groupsReaching(config, agent.skillGroups);
      // A first page shorter than the limit is the whole queue: the second (a subset of it) is not read
      // (issue 18: every freed agent read and parsed the queue twice).
      const oldest = await deps.store.listSessions({ status: ['queued'], ...(groups ? { skillGroups: groups } : {}), limit: QUEUE_PAGE });
      const highest =
        oldest.length < QUEUE_PAGE
          ? []
          : await deps.store.listSessions({
              status: ['queued'],
              ...(groups ? { skillGroups: groups } : {}),
              order: 'priority',
              limit: QUEUE_PAGE,
            });
      const t = now();
      const waiting = [...new Map([...oldest, ...highest].filter((s) => s.routing).map((s) => [s.id, s])).values()]
        .map((s) => ({ s, c: waitingContact(s, s.routing!) }))
        .sort((x, y) => compareWaiting(x.c, y.c, t, config));
      for (const { s, c } of waiting) {
        const a = deps.pool.get(agentId);
        if (!a || a.presence !== 'available' || a.activeChats >= config.capacity.chat) break;
        // A contact this agent cannot take now (its ring does not reach them yet, or the mixed-load
        // rule) is left for others without a decision: a full selection for each such head-of-queue
        // contact made the loop cost grow with the queue (npm run bench -- router).
        if (!couldTake(a, c, config, t)) continue;
        const fresh = await deps.store.getSession(s.id);
        if (fresh?.status === 'queued' && fresh.routing) await offer(fresh, fresh.routing, 'agent-available');
      }
    },

    async agentGone(agentId) {
      // The agent's pending offers as stored, whichever router made them.
      const theirs = await deps.store.listSessions({ status: ['offered'], offeredAgentId: agentId });
      for (const { id } of theirs) {
        clearTimeout(timers.get(id));
        timers.delete(id);
        await expire(id, agentId, 'agent-gone');
      }
    },

    async reoffer(sessionId, declinedBy) {
      if (stopped) return null;
      const session = await deps.store.getSession(sessionId);
      if (session?.status !== 'queued' || !session.routing) return null;
      decline(sessionId, declinedBy);
      return offer(session, session.routing, 'released');
    },

    agentDisconnected(agentId) {
      if (stopped) return;
      cancelReassign(agentId);
      const token = {};
      reassignTokens.set(agentId, token);
      void (async () => {
        const { reassignAfterMs } = await deps.config();
        // Back (agentAvailable), signed out or disconnected again while the config was read.
        if (stopped || reassignTokens.get(agentId) !== token) return;
        const timer = setTimeout(() => {
          reassignTimers.delete(agentId);
          reassignTokens.delete(agentId);
          void reassign(agentId).catch((error: unknown) => log.error({ err: error, agentId }, 'reassigning chats failed'));
        }, reassignAfterMs);
        timer.unref();
        reassignTimers.set(agentId, timer);
      })().catch((error: unknown) => log.error({ err: error, agentId }, 'scheduling the reassignment failed'));
    },

    async agentSignedOut(agentId) {
      if (stopped) return;
      cancelReassign(agentId);
      await reassign(agentId);
    },

    async declined(sessionId, agentId, reason) {
      if (!(await expire(sessionId, agentId, 'declined', reason)))
        throw new HuiliuError('OFFER_TAKEN', 'This contact is not offered to you (any more).');
    },

    settle(sessionId) {
      clearTimeout(timers.get(sessionId));
      timers.delete(sessionId);
      declined.delete(sessionId);
      clearTimeout(retryTimers.get(sessionId));
      retryTimers.delete(sessionId);
    },

    // ── Transfers (issue 11) ──────────────────────────────────────────────────────────────────────
    async transferred(sessionId, { from, agentId }) {
      if (stopped) return null;
      const session = await deps.store.getSession(sessionId);
      if (session?.status !== 'queued' || !session.routing) return null;
      // Other agents first; after one offer time-out the transferring agent too, if nobody else can.
      decline(sessionId, from);
      if (!agentId) return offer(session, session.routing, 'transferred');
      const config = await deps.config();
      const decision: RoutingDecision = {
        ...session.routing,
        trigger: 'transferred',
        offerConfigVersion: config.version,
        offeredAt: new Date(now()).toISOString(),
        offeredTo: agentId,
        assignment: `named by the transfer: offered to ${agentId} alone for ${config.offerTimeoutMs / 1000} s, then to ${session.skillGroup}`,
        assignmentDetails: [{ code: 'named-transfer', params: { timeoutMs: config.offerTimeoutMs, group: session.skillGroup } }],
        candidates: [
          { agentId, chosen: true, reasons: ['named by the transfer'], details: [{ code: 'named-by-transfer' }], codes: ['chosen'] },
          {
            agentId: from,
            chosen: false,
            reasons: ['transferring this contact away'],
            details: [{ code: 'transfer-source' }],
            codes: ['transfer-source'],
          },
        ],
      };
      const expiresAt = new Date(now() + config.offerTimeoutMs).toISOString();
      // Compare-and-set on "queued, offered to nobody": another router's offer made meanwhile stands.
      const { session: saved, applied } = await deps.store.saveRouting(
        sessionId,
        decision,
        { agentId, expiresAt },
        { offeredAgentId: null },
      );
      if (applied) deps.metrics?.offers.inc({ outcome: 'offered' });
      return applied ? settled(session, saved, config.offerTimeoutMs, 'transferred') : saved;
    },

    async recall(sessionId, missedBy, agentId) {
      if (stopped) return null;
      const agent = deps.pool.get(agentId);
      if (!agent || agent.presence !== 'available') return null;
      const session = await deps.store.getSession(sessionId);
      if (session?.status !== 'offered' || session.offeredAgentId !== missedBy || !session.routing) return null;
      if (!agent.skillGroups.includes(session.skillGroup)) return null;
      const config = await deps.config();
      const kind = channelKindOf(session.channel);
      const load = await deps.store.agentLoad(agentId);
      if (!roomFor({ load: load.byKind }, kind, config.capacity).ok) return null;
      const decision: RoutingDecision = {
        ...session.routing,
        trigger: 'declined',
        offerConfigVersion: config.version,
        offeredAt: new Date(now()).toISOString(),
        offeredTo: agentId,
        assignment: `recalled: the transfer's target did not answer; offered back to the transferring agent alone for ${config.offerTimeoutMs / 1000} s, then to ${session.skillGroup}`,
        assignmentDetails: [{ code: 'transfer-recalled', params: { timeoutMs: config.offerTimeoutMs, group: session.skillGroup } }],
        candidates: [
          { agentId, chosen: true, reasons: ['transferred it; recalled'], details: [{ code: 'recalled-by-transfer' }], codes: ['chosen'] },
          {
            agentId: missedBy,
            chosen: false,
            reasons: ['did not answer'],
            details: [{ code: 'missed-transfer' }],
            codes: ['declined-recently'],
          },
        ],
      };
      const expiresAt = new Date(now() + config.offerTimeoutMs).toISOString();
      const { session: saved, applied } = await deps.store.saveRouting(
        sessionId,
        decision,
        { agentId, expiresAt, capacity: { kind, limits: config.capacity } },
        { offeredAgentId: missedBy },
      );
      if (!applied) return null;
      decline(sessionId, missedBy);
      deps.metrics?.offers.inc({ outcome: 'declined' });
      deps.metrics?.offers.inc({ outcome: 'offered' });
      log.info({ sessionId, agentId }, 'transfer target did not answer; recalled to the transferring agent');
      return settled(session, saved, config.offerTimeoutMs, 'declined');
    },

    async transferCandidate(session, decision, exclude) {
      if (stopped) return null;
      const config = await deps.config();
      const t = now();
      const contact: EngineContact = { ...waitingContact(session, decision), skillGroup: decision.skillGroup, queuedAt: t };
      const selection = selectAgents(contact, agentsNow(), config, t, { exclude: new Set([exclude]) });
      const full = new Map<string, Skipped>();
      for (const agent of selection.ranked) {
        const load = await deps.store.agentLoad(agent.id);
        const room = roomFor({ load: load.byKind }, contact.channelKind, config.capacity);
        if (!room.ok) {
          full.set(agent.id, fullBy(room, load));
          continue;
        }
        const candidates = explain(selection.candidates, agent.id, full);
        const chosen = candidates.find((c) => c.agentId === agent.id);
        return {
          agentId: agent.id,
          why: chosen?.reasons.join('; ') ?? '',
          ...(chosen?.details ? { whyDetails: chosen.details } : {}),
          candidates,
        };
      }
      return null;
    },
    // ── end of transfers ──────────────────────────────────────────────────────────────────────────

    async stop() {
      stopped = true;
      for (const t of timers.values()) clearTimeout(t);
      timers.clear();
      for (const t of reassignTimers.values()) clearTimeout(t);
      reassignTimers.clear();
      for (const t of retryTimers.values()) clearTimeout(t);
      retryTimers.clear();
      reassignTokens.clear();
      await Promise.all(subs.map((s) => s.unsubscribe()));
    },
  };
  return router;
}
