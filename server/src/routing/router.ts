import type { RoutingConfig, RoutingDecision } from '../../../common/routing/types';
import { textOf, type Envelope } from '../../../common/message/envelope';
import type { Bus, Subscription } from '../bus/bus';
import type { Logger } from '../logging/logger';
import type { SessionRecord, SessionStore } from '../sessions/store';
import type { AgentPool } from './agent-pool';
import { difficultyScore, priorityOf, tierOf, valueScore, type ValueFacts } from './score';

export interface RouterDeps {
  store: SessionStore;
  bus: Bus;
  pool: AgentPool;
  config: () => RoutingConfig;
  /** Customer value facts (CRM/order system later); the embedded default knows contact counts only. */
  valueFacts?: (customerId: string, contacts30d: number) => Promise<ValueFacts>;
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
  /** The session was claimed or closed: stop its offer timer. */
  settle(sessionId: string): void;
  stop(): Promise<void>;
}

const DAY = 86_400_000;

/**
 * First version of the router (DESIGN §5): the score, the tiers and the stored explanation are the
 * real formula; assignment is capacity → expert preference → fewest chats → longest idle, with
 * offers that time out to the next agent. The AI tier has no AI yet, so every tier is offered to a
 * person and the explanation says so (handing over is never a dead end).
 */
export function createRouter(deps: RouterDeps): Router {
  const now = deps.now ?? Date.now;
  const timers = new Map<string, NodeJS.Timeout>();
  const declined = new Map<string, Set<string>>();
  /** Pending offers per agent: an offer holds a slot of the agent's capacity until it is settled. */
  const pending = new Map<string, string>(); // sessionId → agentId
  const pendingFor = (agentId: string) => [...pending.values()].filter((a) => a === agentId).length;
  const reassignTimers = new Map<string, NodeJS.Timeout>();
  const subs: Subscription[] = [];
  const log = deps.logger.child({ component: 'router' });
  // Once stopped (shutdown), late events — an agent socket closing, a timer — change nothing.
  let stopped = false;

  async function contacts30d(customerId: string): Promise<number> {
    const since = now() - 30 * DAY;
    const sessions = await deps.store.listSessions({ customerId, limit: 1000 });
    return sessions.filter((s) => Date.parse(s.createdAt) >= since).length;
  }

  function pickAgent(session: SessionRecord, tier: RoutingDecision['tier']) {
    const config = deps.config();
    const candidates = deps.pool
      .candidates(session.skillGroup, {
        capacity: config.chatCapacity,
        preferExpert: tier === 'expert',
        exclude: declined.get(session.id) ?? new Set(),
      })
      .filter((a) => pending.get(session.id) === a.id || a.activeChats + pendingFor(a.id) < config.chatCapacity);
    const agent = candidates[0];
    if (!agent) {
      return { agent: null, why: `no available agent in ${session.skillGroup} with capacity; waiting in queue` };
    }
    const why = [
      tier === 'expert' ? (agent.expert ? 'expert agent for an expert-tier contact' : 'no expert free; best available agent') : null,
      `${agent.activeChats}/${config.chatCapacity} chats`,
      `idle since ${new Date(agent.idleSince).toISOString()}`,
    ]
      .filter(Boolean)
      .join('; ');
    return { agent, why };
  }

  async function offer(session: SessionRecord, decision: RoutingDecision): Promise<SessionRecord> {
    const config = deps.config();
    const { agent, why } = pickAgent(session, decision.tier);
    const next: RoutingDecision = { ...decision, offeredTo: agent?.id ?? null, assignment: why };
    const expiresAt = new Date(now() + config.offerTimeoutMs).toISOString();
    const saved = await deps.store.saveRouting(session.id, next, agent ? { agentId: agent.id, expiresAt } : null);
    pending.delete(saved.id);
    if (saved.status === 'offered' && saved.offeredAgentId) {
      pending.set(saved.id, saved.offeredAgentId);
      schedule(saved.id, saved.offeredAgentId, config.offerTimeoutMs);
    }
    await deps.bus.publish('session.changed', { sessionId: saved.id, status: saved.status, agentId: saved.offeredAgentId });
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

  /** The session will not be offered to this agent again (timed out, or gone). */
  function decline(sessionId: string, agentId: string): void {
    let set = declined.get(sessionId);
    if (!set) declined.set(sessionId, (set = new Set()));
    set.add(agentId);
  }

  async function reassign(agentId: string): Promise<void> {
    if (stopped || deps.pool.get(agentId)) return; // back in the meantime
    const theirs = await deps.store.listSessions({ status: ['active'], assignedAgentId: agentId });
    for (const s of theirs) {
      const released = await deps.store.release(s.id, agentId);
      if (!released) continue;
      log.info({ sessionId: s.id, agentId }, 'agent gone; chat back to the queue');
      await deps.bus.publish('session.changed', { sessionId: s.id, status: 'queued', agentId: null, reason: 'released' });
      if (released.routing) {
        decline(s.id, agentId);
        await offer(released, released.routing);
      }
    }
  }

  async function expire(sessionId: string, agentId: string): Promise<void> {
    if (stopped) return;
    const session = await deps.store.getSession(sessionId);
    if (!session || session.status !== 'offered' || session.offeredAgentId !== agentId || !session.routing) return;
    decline(sessionId, agentId);
    log.info({ sessionId, agentId }, 'offer timed out; offering to the next agent');
    await offer(session, session.routing);
  }

  const router: Router = {
    async start() {
      subs.push(
        await deps.bus.subscribe('message.in', 'router', async ({ envelope, newSession }) => {
          if (newSession) await router.route(envelope);
        }),
      );
      // Crash recovery: contacts stored but never routed, or offered before a restart.
      for (const s of await deps.store.listSessions({ status: ['queued', 'offered'], limit: 5000 })) {
        if (!s.routing) {
          const first = await deps.store.listMessages(s.conversationId, { limit: 1 });
          if (first[0]) await router.route(first[0]);
        } else {
          await offer(s, s.routing);
        }
      }
    },

    async route(envelope) {
      const session = await deps.store.getSession(envelope.sessionId);
      if (!session) throw new Error(`session ${envelope.sessionId} vanished`);
      if (session.routing) return session;
      const config = deps.config();
      const contacts = await contacts30d(session.customerId);
      const facts = deps.valueFacts ? await deps.valueFacts(session.customerId, contacts) : { spend: 0, csat: null, contacts30d: contacts };
      const value = valueScore(facts, config);
      const difficulty = difficultyScore({ text: textOf(envelope), channel: session.channel, contacts30d: contacts });
      const priority = priorityOf(value.score, difficulty.score, config);
      const tier = tierOf(priority, config);
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
            ? [{ factor: 'handover', note: 'AI auto-answer is not enabled in this version: handed to a person' }]
            : tier === 'assisted'
              ? [{ factor: 'assist', note: 'AI drafts are not enabled in this version: a person answers directly' }]
              : []),
        ],
        offeredTo: null,
        assignment: '',
        decidedAt: new Date(now()).toISOString(),
      };
      return offer(session, decision);
    },

    async agentAvailable(agentId) {
      if (stopped) return;
      clearTimeout(reassignTimers.get(agentId));
      reassignTimers.delete(agentId);
      const agent = deps.pool.get(agentId);
      if (!agent || agent.presence !== 'available') return;
      const waiting = await deps.store.listSessions({ status: ['queued'], skillGroups: agent.skillGroups, limit: 50 });
      for (const s of waiting) {
        const a = deps.pool.get(agentId);
        if (!a || a.activeChats >= deps.config().chatCapacity) break;
        if (s.routing) await offer(s, s.routing);
      }
    },

    async agentGone(agentId) {
      const theirs = [...pending.entries()].filter(([, a]) => a === agentId).map(([sessionId]) => sessionId);
      for (const sessionId of theirs) {
        clearTimeout(timers.get(sessionId));
        timers.delete(sessionId);
        await expire(sessionId, agentId);
      }
    },

    agentDisconnected(agentId) {
      if (stopped) return;
      clearTimeout(reassignTimers.get(agentId));
      const timer = setTimeout(() => {
        reassignTimers.delete(agentId);
        void reassign(agentId).catch((error: unknown) => log.error({ err: error, agentId }, 'reassigning chats failed'));
      }, deps.config().reassignAfterMs);
      timer.unref();
      reassignTimers.set(agentId, timer);
    },

    async agentSignedOut(agentId) {
      if (stopped) return;
      clearTimeout(reassignTimers.get(agentId));
      reassignTimers.delete(agentId);
      await reassign(agentId);
    },

    settle(sessionId) {
      clearTimeout(timers.get(sessionId));
      timers.delete(sessionId);
      declined.delete(sessionId);
      pending.delete(sessionId);
    },

    async stop() {
      stopped = true;
      for (const t of timers.values()) clearTimeout(t);
      timers.clear();
      for (const t of reassignTimers.values()) clearTimeout(t);
      reassignTimers.clear();
      pending.clear();
      await Promise.all(subs.map((s) => s.unsubscribe()));
    },
  };
  return router;
}
