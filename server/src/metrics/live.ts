import { Gauge } from 'prom-client';
import type { ChannelCode } from '../../../common/message/session-id';
import type { AgentPool } from '../routing/agent-pool';
import type { SessionStore } from '../sessions/store';
import type { Metrics } from './metrics';

/** Most waiting contacts one scrape reads (the router's own restart sweep reads as many). */
const SCRAPE_LIMIT = 5000;

/** What the scrape-time gauges read: the session store (shared by every node) and this node's agent pool. */
export interface LiveSources {
  store: Pick<SessionStore, 'listSessions' | 'countSessions'>;
  pool: Pick<AgentPool, 'all'>;
  /** `kpis.serviceLevel` of the config: answered within these many seconds counts as in service level (docs/kpis.md). */
  serviceLevel: { readonly voiceSeconds: number; readonly chatSeconds: number };
  now?: () => number;
}

/** The service-level threshold of a channel in ms: `SP` (voice) has the voice one, every other channel the chat one (kpis/compute.ts). */
function thresholdMs(channel: ChannelCode, sl: LiveSources['serviceLevel']): number {
  return (channel === 'SP' ? sl.voiceSeconds : sl.chatSeconds) * 1000;
}

/**
 * Issue 16: gauges read from the store and the agent pool at each scrape (prom-client `collect`),
 * nothing counted on the hot paths:
 * - `huiliu_queue_depth{skill_group,tier}`: contacts waiting for a person (status `queued` or
 *   `offered`), by their routing decision's skill group and tier (`unrouted` before the first decision);
 * - `huiliu_queue_oldest_wait_seconds{skill_group,tier}`: the longest of their waits (now − `waitingSince`), seconds;
 * - `huiliu_queue_past_service_level{skill_group,tier}`: those of them already waiting longer than the
 *   service-level threshold of their channel (`kpis.serviceLevel`): service-level breaches under way;
 * - `huiliu_sessions{status}`: open sessions by status (`bot`, `queued`, `offered`, `active`);
 * - `huiliu_agents{presence}`: agents signed in on this node by presence, and
 *   `huiliu_agents_available{skill_group}`: of them, those with presence `available`, by skill group.
 * Store-backed gauges are the same on every node (one shared store): aggregate them with `max`, not `sum`.
 * A label set seen before and now empty reads 0 (the gauge is reset at each scrape).
 */
export function registerLiveGauges(metrics: Metrics, sources: LiveSources): void {
  const now = sources.now ?? Date.now;
  const registers = [metrics.registry];
  // One read of the waiting contacts serves the three queue gauges of a scrape: the registry starts
  // every collect in registration order, so the depth gauge's fresh read is the one the other two await.
  type Waiting = { depth: Map<string, number>; oldest: Map<string, number>; late: Map<string, number> };
  let latest: Promise<Waiting> | null = null;
  const read = async (): Promise<Waiting> => {
    const t = now();
    const depth = new Map<string, number>();
    const oldest = new Map<string, number>();
    const late = new Map<string, number>();
    for (const s of await sources.store.listSessions({ status: ['queued', 'offered'], limit: SCRAPE_LIMIT })) {
      const key = JSON.stringify([s.routing?.skillGroup ?? s.skillGroup, s.routing?.tier ?? 'unrouted']);
      const waitedMs = Math.max(0, t - Date.parse(s.waitingSince));
      depth.set(key, (depth.get(key) ?? 0) + 1);
      oldest.set(key, Math.max(oldest.get(key) ?? 0, waitedMs / 1000));
      late.set(key, (late.get(key) ?? 0) + (waitedMs > thresholdMs(s.channel, sources.serviceLevel) ? 1 : 0));
    }
    return { depth, oldest, late };
  };
  const waiting = (fresh: boolean) => (fresh || !latest ? (latest = read()) : latest);
  const queueGauge = (name: string, help: string, pick: 'depth' | 'oldest' | 'late') =>
    new Gauge({
      name,
      help,
      labelNames: ['skill_group', 'tier'],
      registers,
      async collect() {
        const values = (await waiting(pick === 'depth'))[pick];
        this.reset();
        for (const [key, value] of values) {
          const [skill_group, tier] = JSON.parse(key) as [string, string];
          this.set({ skill_group, tier }, value);
        }
      },
    });
  queueGauge('huiliu_queue_depth', 'Contacts waiting for a person (queued or offered), by skill group and tier.', 'depth');
  queueGauge(
    'huiliu_queue_oldest_wait_seconds',
    'Longest wait of a contact waiting for a person, seconds, by skill group and tier.',
    'oldest',
  );
  queueGauge(
    'huiliu_queue_past_service_level',
    'Waiting contacts already past the service-level threshold of their channel (kpis.serviceLevel), by skill group and tier.',
    'late',
  );
  new Gauge({
    name: 'huiliu_sessions',
    help: 'Open sessions by status (bot, queued, offered, active).',
    labelNames: ['status'],
    registers,
    async collect() {
      for (const status of ['bot', 'queued', 'offered', 'active'] as const)
        this.set({ status }, await sources.store.countSessions({ status: [status] }));
    },
  });
  new Gauge({
    name: 'huiliu_agents',
    help: 'Agents signed in on this node, by presence.',
    labelNames: ['presence'],
    registers,
    collect() {
      this.reset();
      for (const a of sources.pool.all()) this.inc({ presence: a.presence });
    },
  });
  new Gauge({
    name: 'huiliu_agents_available',
    help: 'Agents signed in on this node with presence available, by skill group.',
    labelNames: ['skill_group'],
    registers,
    collect() {
      this.reset();
      for (const a of sources.pool.all()) if (a.presence === 'available') for (const g of a.skillGroups) this.inc({ skill_group: g });
    },
  });
}
