import type { SessionFacts } from '../../../common/events/events';
import type { ChannelCode } from '../../../common/message/session-id';
import type { Bus, Subscription } from '../bus/bus';
import type { Logger } from '../logging/logger';
import type { Metrics } from '../metrics/metrics';
import type { AgentState } from '../routing/agent-pool';
import { thresholdMs } from './compute';
import { kpiEvent, type AgentKpiState, type KpiEvent } from './events';
import { csatWarranted } from '../customers/csat';
import type { KpiEventLog } from './log.sqlite';

/** Channels whose customers are offered the 1–5 survey on every close (the widget's rating frame). */
export const SURVEY_CHANNELS: readonly ChannelCode[] = ['WB'];
/**
 * Channels asked on a close that warrants it (`csatWarranted`, issue 15): the app by its
 * `conversation.csat_requested` webhook, WeChat and XMPP by a "reply 1–5" text (when `channelSurvey`).
 */
export const WARRANTED_SURVEY_CHANNELS: readonly ChannelCode[] = ['AP', 'WX', 'XM'];
/** How often the agents' states are sampled between the changes the recorder hears of (ms). */
export const AGENT_SAMPLE_MS = 5_000;
/** The work group the recorder consumes in: each event is recorded once however many nodes run. */
const GROUP = 'kpis';

const ms = (iso: string) => Date.parse(iso);
/** A staff actor (not `customer`, `system` or `ai`), or null. */
const staff = (actor: string) => (actor === 'customer' || actor === 'system' || actor === 'ai' ? null : actor);

/** The dimensions of a contact fact, from the session facts an event carries. */
function dims(e: { sessionId?: string | undefined; conversationId?: string | undefined }, s: SessionFacts) {
  return {
    sessionId: e.sessionId ?? null,
    conversationId: e.conversationId ?? null,
    customerId: s.customerId,
    skillGroup: s.skillGroup,
    channel: s.channel,
    tier: s.tier,
  };
}

/** An agent's KPI state from their presence and load (docs/kpis.md, occupancy). */
export function agentStateOf(a: Pick<AgentState, 'presence' | 'activeChats'>): AgentKpiState {
  if (a.presence === 'offline') return 'offline';
  if (a.presence === 'after-call-work') return 'wrap-up';
  if (a.activeChats > 0) return 'handling';
  return a.presence === 'available' ? 'idle' : 'away';
}

export interface KpiRecorder {
  /** Subscribes to the bus (work group `kpis`) and starts sampling the agents. */
  start(): Promise<void>;
  /** A customer rated a closed session (CSAT, 1..5). Idempotent per session. */
  rated(rating: { sessionId: string; customerId: string; score: number; ratedAt: string }): void;
  /** Records every agent whose state changed since the last sample (also called on the changes it hears of). */
  sampleAgents(): void;
  stop(): Promise<void>;
}

export interface KpiRecorderDeps {
  /** Issue 15: WeChat and XMPP customers are asked on close (config `csat.channelSurvey`; default true). */
  channelSurvey?: boolean;
  log: KpiEventLog;
  bus: Bus;
  logger: Logger;
  /** This node's agents (the routing pool); absent: no occupancy facts. */
  agents?: () => readonly AgentState[];
  now?: () => number;
  sampleMs?: number;
  /**
   * Issue 16: with both, each contact first answered, or abandoned, after the service-level threshold
   * of its channel (`kpis.serviceLevel`, the same rule as the KPI's, kpis/compute.ts) is counted once in
   * `huiliu_sla_breaches_total{skill_group,channel,outcome}` as its fact is first recorded.
   */
  serviceLevel?: { readonly voiceSeconds: number; readonly chatSeconds: number };
  metrics?: Pick<Metrics, 'slaBreaches'>;
}

/**
 * Feeds the contact event log (issue 16) from the bus — `message.in` (new sessions, reopens),
 * `session.changed` (queued, offered, answered, abandoned, wrap-up, closed, hand-over), `ai.acted`
 * (auto-answers), `transfer.changed` — from CSAT ratings (`rated`) and from samples of the agent
 * pool (occupancy). Facts only: ids, codes, times. Every fact has a deterministic id, so a bus
 * redelivery or a restart adds nothing twice. Facts are written with the others of the same event-loop
 * turn (`appendSoon`: one transaction, no fsync on this thread); a failed batch is logged.
 */
export function createKpiRecorder(deps: KpiRecorderDeps): KpiRecorder {
  const now = deps.now ?? Date.now;
  const log = deps.logger.child({ component: 'kpis' });
  /** Channels asked when the close warrants it: the app always (its webhook event), WX and XM with `channelSurvey`. */
  const asksOn = (channel: ChannelCode) =>
    WARRANTED_SURVEY_CHANNELS.includes(channel) && (channel === 'AP' || deps.channelSurvey !== false);
  const subs: Subscription[] = [];
  const last = new Map<string, AgentKpiState>();
  let timer: ReturnType<typeof setInterval> | null = null;
  const sl = deps.serviceLevel && { voice: deps.serviceLevel.voiceSeconds, chat: deps.serviceLevel.chatSeconds };
  /** The breach a fact records, if any: a first answer or an abandonment after the channel's threshold. */
  const breachOf = (e: KpiEvent): 'answered' | 'abandoned' | null => {
    if (!sl || !deps.metrics || (e.data.waitMs ?? 0) <= thresholdMs(e.channel, sl)) return null;
    if (e.kind === 'contact.abandoned') return 'abandoned';
    if (e.kind === 'contact.answered' && e.sessionId && !deps.log.has(e.sessionId, 'contact.answered')) return 'answered';
    return null;
  };
  // Facts in order; a breach is appended on its own, so it is counted only when it was new (not a redelivery).
  const append = (events: KpiEvent[]) => {
    let batch: KpiEvent[] = [];
    const flush = () => {
      if (batch.length > 0) deps.log.appendSoon(batch);
      batch = [];
    };
    for (const e of events) {
      const outcome = breachOf(e);
      if (!outcome) {
        batch.push(e);
        continue;
      }
      flush();
      if (deps.log.append([e]) > 0)
        deps.metrics?.slaBreaches.inc({ skill_group: e.skillGroup ?? 'unknown', channel: e.channel ?? 'unknown', outcome });
    }
    flush();
  };

  function sampleAgents(): void {
    if (!deps.agents) return;
    const t = now();
    const seen = new Set<string>();
    const changed: KpiEvent[] = [];
    for (const a of deps.agents()) {
      seen.add(a.id);
      const state = agentStateOf(a);
      if (last.get(a.id) === state) continue;
      last.set(a.id, state);
      changed.push(
        kpiEvent({
          id: `state:${a.id}:${t}:${state}`,
          kind: 'agent.state',
          at: t,
          agentId: a.id,
          data: { state, groups: [...a.skillGroups] },
        }),
      );
    }
    for (const [id, state] of last) {
      if (seen.has(id) || state === 'offline') continue;
      last.set(id, 'offline');
      changed.push(kpiEvent({ id: `state:${id}:${t}:offline`, kind: 'agent.state', at: t, agentId: id, data: { state: 'offline' } }));
    }
    try {
      append(changed);
    } catch (error) {
      log.error({ err: error }, 'recording agent states failed');
    }
  }

  /** The contact started to wait for a person (once per waiting spell: keyed by `waitingSince`). */
  const queued = (e: { sessionId: string; conversationId: string; at: string }, s: SessionFacts): KpiEvent[] => {
    if (s.status !== 'queued' && s.status !== 'offered') return [];
    const since = ms(s.waitingSince);
    const out = [
      kpiEvent({ id: `queued:${e.sessionId}:${since}`, kind: 'contact.queued', at: since, ...dims(e, s), data: { waitingSince: since } }),
    ];
    if (s.status === 'offered' && s.offeredAgentId) {
      out.push(
        kpiEvent({
          id: `offered:${e.sessionId}:${s.offeredAgentId}:${s.offerExpiresAt ?? e.at}`,
          kind: 'contact.offered',
          at: ms(e.at),
          ...dims(e, s),
          agentId: s.offeredAgentId,
        }),
      );
    }
    return out;
  };

  return {
    async start() {
      subs.push(
        await deps.bus.subscribe('message.in', GROUP, (e) => {
          if (!e.payload.newSession) return;
          const s = e.payload.session;
          const movedFrom = e.payload.movedFrom ?? s.movedFrom;
          const at = ms(e.at);
          const facts = [
            kpiEvent({ id: `created:${e.sessionId}`, kind: 'contact.created', at, ...dims(e, s), data: movedFrom ? { movedFrom } : {} }),
          ];
          if (!movedFrom && deps.log.closedBefore(e.conversationId, e.sessionId)) {
            facts.push(kpiEvent({ id: `reopened:${e.sessionId}`, kind: 'contact.reopened', at, ...dims(e, s) }));
          }
          // Not queued yet: a new session is stored `queued` before the router decides (it may go to the AI).
          append(facts);
        }),
        await deps.bus.subscribe('session.changed', GROUP, (e) => {
          const s = e.payload;
          const at = ms(e.at);
          const d = dims(e, s);
          const facts: KpiEvent[] = [];
          switch (s.reason) {
            case 'routed':
            case 'released':
              facts.push(...queued(e, s));
              break;
            case 'handed-over':
              facts.push(
                kpiEvent({
                  id: `handover:${e.sessionId}`,
                  kind: 'ai.handed-over',
                  at,
                  ...d,
                  data: s.handover ? { reason: s.handover.reason } : {},
                }),
              );
              facts.push(...queued(e, s));
              // An agent who took the contact over from the AI answered it at once.
              if (s.status === 'active' && s.assignedAgentId) {
                facts.push(
                  kpiEvent({ id: `answered:${e.id}`, kind: 'contact.answered', at, ...d, agentId: s.assignedAgentId, data: { waitMs: 0 } }),
                );
              }
              break;
            case 'accepted':
              facts.push(
                kpiEvent({
                  id: `answered:${e.id}`,
                  kind: 'contact.answered',
                  at,
                  ...d,
                  agentId: s.assignedAgentId,
                  data: { waitMs: Math.max(0, at - ms(s.waitingSince)), ...(s.trigger === 'transferred' ? { transfer: true } : {}) },
                }),
              );
              break;
            case 'closed':
            case 'moved': {
              const moved = s.reason === 'moved';
              const agentId = staff(e.actor);
              const answered = deps.log.has(e.sessionId, 'contact.answered');
              if (!moved && !answered && deps.log.has(e.sessionId, 'contact.queued')) {
                facts.push(
                  kpiEvent({
                    id: `abandoned:${e.sessionId}`,
                    kind: 'contact.abandoned',
                    at,
                    ...d,
                    data: { waitMs: Math.max(0, at - ms(s.waitingSince)) },
                  }),
                );
              }
              if (!moved && answered && s.wrapUpCode) {
                facts.push(
                  kpiEvent({
                    id: `wrapped-up:${e.sessionId}`,
                    kind: 'contact.wrapped-up',
                    at,
                    ...d,
                    agentId,
                    // The agent's "resolved on first contact" (issue 15); events from before it: code `resolved`.
                    data: { disposition: s.wrapUpCode, resolvedOnFirstContact: s.resolvedOnFirstContact ?? s.wrapUpCode === 'resolved' },
                  }),
                );
              }
              facts.push(
                kpiEvent({ id: `closed:${e.sessionId}`, kind: 'contact.closed', at, ...d, agentId, data: moved ? { moved: true } : {} }),
              );
              if (!moved && (SURVEY_CHANNELS.includes(s.channel) || (asksOn(s.channel) && csatWarranted(s)))) {
                facts.push(kpiEvent({ id: `csat-asked:${e.sessionId}`, kind: 'csat.asked', at, ...d, agentId }));
              }
              break;
            }
          }
          append(facts);
          // Accepts and closes change agents' loads: sample now rather than at the next tick.
          if (s.reason === 'accepted' || s.reason === 'closed') sampleAgents();
        }),
        await deps.bus.subscribe('ai.acted', GROUP, (e) => {
          if (e.payload.action !== 'answered') return;
          append([kpiEvent({ id: `ai:${e.id}`, kind: 'ai.answered', at: ms(e.at), ...dims(e, e.payload.session) })]);
        }),
        await deps.bus.subscribe('transfer.changed', GROUP, (e) => {
          const p = e.payload;
          // Warm transfers count when accepted, cold ones when routed: once per transfer.
          if (p.status !== 'accepted' && p.status !== 'routed') return;
          append([
            kpiEvent({
              id: `transfer:${p.transferId}`,
              kind: 'contact.transferred',
              at: ms(e.at),
              ...dims(e, p.session),
              agentId: p.fromAgentId,
              data: { mode: p.mode, fromAgentId: p.fromAgentId, toSkillGroup: p.skillGroup },
            }),
          ]);
        }),
      );
      if (deps.agents) {
        sampleAgents();
        timer = setInterval(sampleAgents, deps.sampleMs ?? AGENT_SAMPLE_MS);
        timer.unref();
      }
    },

    rated(r) {
      try {
        append([
          kpiEvent({
            id: `csat:${r.sessionId}`,
            kind: 'csat.answered',
            at: ms(r.ratedAt),
            sessionId: r.sessionId,
            customerId: r.customerId,
            data: { score: r.score },
          }),
        ]);
      } catch (error) {
        log.error({ err: error, sessionId: r.sessionId }, 'recording a CSAT rating failed');
      }
    },

    sampleAgents,

    async stop() {
      if (timer) clearInterval(timer);
      timer = null;
      for (const s of subs.splice(0)) await s.unsubscribe();
    },
  };
}
