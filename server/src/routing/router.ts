import type { RoutingCandidate, RoutingConfig, RoutingDecision, RoutingTrigger } from '../../../common/routing/types';
import { textOf, type Envelope } from '../../../common/message/envelope';
import type { Bus, Subscription } from '../bus/bus';
import { sessionChanged } from '../bus/events';
import type { Logger } from '../logging/logger';
import type { SessionRecord, SessionStore } from '../sessions/store';
import type { AgentPool, AgentState } from './agent-pool';
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
  /** Customer value facts (CRM/order system later); the embedded default knows contact counts only. */
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
   * A warm transfer to a skill group or the expert tier: the agent the router would offer a contact
   * under `decision` (its skill group and tier) to now, never `exclude` (the transferring agent), and
   * why; nothing is written. Null when nobody can take it now.
   */
  transferCandidate(
    decision: RoutingDecision,
    exclude: string,
  ): Promise<{ agentId: string; why: string; candidates: RoutingCandidate[] } | null>;
  // ── end of transfers ──────────────────────────────────────────────────────────────────────────
  stop(): Promise<void>;
}

const DAY = 86_400_000;

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

  async function contacts30d(customerId: string): Promise<number> {
    const since = now() - 30 * DAY;
    const sessions = await deps.store.listSessions({ customerId, limit: 1000 });
    return sessions.filter((s) => Date.parse(s.createdAt) >= since).length;
  }

  /** Why an agent of the group is not eligible at all (DESIGN §5 `candidates`). */
  function notEligible(a: AgentState, exclude: ReadonlySet<string>, capacity: number): string[] {
    const reasons: string[] = [];
    if (a.presence !== 'available') reasons.push(`presence ${a.presence}`);
    if (a.activeChats >= capacity) reasons.push(`at capacity: ${a.activeChats}/${capacity} chats`);
    if (exclude.has(a.id)) reasons.push('let an offer of this contact lapse, or left, earlier');
    return reasons;
  }

  /**
   * Offers the session to the first eligible agent with room (checked again by the store in the same
   * write), or queues it; appends the decision to the log either way.
   */
  async function offer(session: SessionRecord, decision: RoutingDecision, trigger: RoutingTrigger): Promise<SessionRecord> {
    const config = await deps.config();
    const capacity = config.capacity.chat;
    const lapsed = declined.get(session.id) ?? new Map<string, number>();
    const preferExpert = decision.tier === 'expert';
    let exclude: ReadonlySet<string> = new Set(lapsed.keys());
    let ranked = deps.pool.candidates(session.skillGroup, { capacity, preferExpert, exclude });
    if (ranked.length === 0 && lapsed.size > 0) {
      // Nobody else can take it: an agent who let it lapse gets it again once a cool-down of one
      // offer timeout has passed, so a contact is never stranded by a missed offer or a reload.
      const cooling = [...lapsed].filter(([, at]) => now() - at < config.offerTimeoutMs);
      exclude = new Set(cooling.map(([id]) => id));
      ranked = deps.pool.candidates(session.skillGroup, { capacity, preferExpert, exclude });
      if (ranked.length === 0 && cooling.length > 0) {
        // reduce, not Math.min(...): one argument per agent in the group would have no upper bound.
        const firstFree = cooling.reduce((min, [, at]) => Math.min(min, at + config.offerTimeoutMs), Infinity);
        retryAfter(session.id, firstFree - now());
      }
    }
    const reasons = new Map<string, string[]>();
    for (const a of deps.pool.inGroup(session.skillGroup)) if (!ranked.includes(a)) reasons.set(a.id, notEligible(a, exclude, capacity));
    const candidates = (chosen: string | null): RoutingCandidate[] =>
      [...reasons].map(([agentId, why]) => ({ agentId, chosen: agentId === chosen, reasons: why }));
    const base: RoutingDecision = { ...decision, trigger, offerConfigVersion: config.version, offeredAt: new Date(now()).toISOString() };
    const expiresAt = new Date(now() + config.offerTimeoutMs).toISOString();
    // Compare-and-set on the offer this decision saw: another router's newer offer is never clobbered.
    const seen = { offeredAgentId: session.status === 'offered' ? session.offeredAgentId : null };

    for (const [i, agent] of ranked.entries()) {
      const load = await deps.store.agentLoad(agent.id);
      // This session's own pending offer to the agent does not count against them.
      const held = load.active + load.offered - (session.status === 'offered' && session.offeredAgentId === agent.id ? 1 : 0);
      if (held >= capacity) {
        reasons.set(agent.id, [`full: ${load.active} active + ${load.offered} offered of ${capacity}`]);
        continue;
      }
      const why = [
        decision.tier === 'expert'
          ? agent.expert
            ? 'expert agent for an expert-tier contact'
            : 'no expert free; best available agent'
          : null,
        `${agent.activeChats}/${capacity} chats`,
        `idle since ${new Date(agent.idleSince).toISOString()}`,
      ]
        .filter(Boolean)
        .join('; ');
      reasons.set(agent.id, [why]);
      for (const later of ranked.slice(i + 1)) {
        reasons.set(later.id, [
          `ranked after ${agent.id} (experts first for expert tier, then fewest chats, then longest idle): ${later.expert ? 'expert; ' : ''}${later.activeChats} chats, idle since ${new Date(later.idleSince).toISOString()}`,
        ]);
      }
      const next: RoutingDecision = { ...base, offeredTo: agent.id, assignment: why, candidates: candidates(agent.id) };
      const { session: saved, applied } = await deps.store.saveRouting(session.id, next, { agentId: agent.id, expiresAt, capacity }, seen);
      // Applied; or taken/closed; or another router changed the offer since we looked: its decision stands.
      if (applied || (saved.status !== 'queued' && saved.status !== 'offered') || saved.offeredAgentId !== seen.offeredAgentId)
        return settled(session, saved, config.offerTimeoutMs, trigger);
      // Another router filled the agent between our look and our write: the store refused; try the next.
      reasons.set(agent.id, [`full: another server's offer took the last slot of ${capacity}`]);
    }
    const why = `no available agent in ${session.skillGroup} with capacity; waiting in queue`;
    const next: RoutingDecision = { ...base, offeredTo: null, assignment: why, candidates: candidates(null) };
    const { session: saved } = await deps.store.saveRouting(session.id, next, null, seen);
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

  /** Offers a still-waiting contact again when the cool-down of its only candidates ends. */
  function retryAfter(sessionId: string, ms: number): void {
    clearTimeout(retryTimers.get(sessionId));
    const timer = setTimeout(
      () => {
        retryTimers.delete(sessionId);
        void (async () => {
          if (stopped) return;
          const s = await deps.store.getSession(sessionId);
          if (s?.status === 'queued' && s.routing) await offer(s, s.routing, 'cooled-down');
        })().catch((error: unknown) => log.error({ err: error, sessionId }, 're-offer after cool-down failed'));
      },
      Math.max(0, ms) + 10,
    );
    timer.unref();
    retryTimers.set(sessionId, timer);
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

  async function expire(sessionId: string, agentId: string, trigger: 'timeout' | 'agent-gone' = 'timeout'): Promise<void> {
    if (stopped) return;
    const session = await deps.store.getSession(sessionId);
    if (!session || session.status !== 'offered' || session.offeredAgentId !== agentId || !session.routing) return;
    decline(sessionId, agentId);
    log.info(
      { sessionId, agentId },
      trigger === 'timeout' ? 'offer timed out; offering to the next agent' : 'agent gone; offering to the next agent',
    );
    await offer(session, session.routing, trigger);
  }

  function cancelReassign(agentId: string): void {
    clearTimeout(reassignTimers.get(agentId));
    reassignTimers.delete(agentId);
    reassignTokens.delete(agentId);
  }

  const router: Router = {
    async start() {
      subs.push(
        await deps.bus.subscribe('message.in', 'router', async ({ payload: { envelope, newSession } }) => {
          if (newSession) await router.route(envelope);
        }),
      );
      // Crash recovery: contacts stored but never routed, or offered before a restart.
      for (const s of await deps.store.listSessions({ status: ['queued', 'offered'], limit: 5000 })) {
        if (!s.routing) {
          const first = await deps.store.listMessages(s.conversationId, { limit: 1 });
          if (first[0]) await router.route(first[0]);
        } else {
          await offer(s, s.routing, 'recovery');
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
        difficulty: { text: textOf(envelope), channel: session.channel, contacts30d: contacts },
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
          },
          ...(tier === 'ai'
            ? [
                aiTier.available
                  ? { factor: 'ai', note: 'AI tier: answers from the knowledge base, hands over to a person when unsure or asked' }
                  : { factor: 'handover', note: `AI tier not answering (${aiTier.why}): handed to a person` },
              ]
            : tier === 'assisted'
              ? [{ factor: 'assist', note: 'assisted tier: an AI draft is prepared for the agent to review' }]
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
        const bot: RoutingDecision = { ...decision, trigger: 'new', assignment: 'with the AI tier', offeredAt: decision.decidedAt };
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
      // Oldest first until the agent is full; the first page rarely runs out, but a page of 500 keeps
      // an agent from idling behind 50 contacts that others hold.
      const waiting = await deps.store.listSessions({ status: ['queued'], skillGroups: agent.skillGroups, limit: 500 });
      for (const s of waiting) {
        const a = deps.pool.get(agentId);
        if (!a || a.activeChats >= (await deps.config()).capacity.chat) break;
        if (s.routing) await offer(s, s.routing, 'agent-available');
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
        candidates: [
          { agentId, chosen: true, reasons: ['named by the transfer'], codes: ['chosen'] },
          { agentId: from, chosen: false, reasons: ['transferring this contact away'], codes: ['transfer-source'] },
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
      return applied ? settled(session, saved, config.offerTimeoutMs, 'transferred') : saved;
    },

    async transferCandidate(decision, exclude) {
      if (stopped) return null;
      const config = await deps.config();
      const capacity = config.capacity.chat;
      const excluded = new Set([exclude]);
      const ranked = deps.pool.candidates(decision.skillGroup, { capacity, preferExpert: decision.tier === 'expert', exclude: excluded });
      const candidates: RoutingCandidate[] = deps.pool
        .inGroup(decision.skillGroup)
        .filter((a) => !ranked.includes(a))
        .map((a) =>
          a.id === exclude
            ? { agentId: a.id, chosen: false, reasons: ['transferring this contact away'], codes: ['transfer-source'] }
            : { agentId: a.id, chosen: false, reasons: notEligible(a, excluded, capacity) },
        );
      for (const agent of ranked) {
        const load = await deps.store.agentLoad(agent.id);
        if (load.active + load.offered >= capacity) {
          candidates.push({
            agentId: agent.id,
            chosen: false,
            reasons: [`full: ${load.active} active + ${load.offered} offered of ${capacity}`],
          });
          continue;
        }
        const why = [
          decision.tier === 'expert' ? (agent.expert ? 'expert agent for the expert tier' : 'no expert free; best available agent') : null,
          `${agent.activeChats}/${capacity} chats`,
          `idle since ${new Date(agent.idleSince).toISOString()}`,
        ]
          .filter(Boolean)
          .join('; ');
        candidates.push({ agentId: agent.id, chosen: true, reasons: [why], codes: ['chosen'] });
        return { agentId: agent.id, why, candidates };
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
