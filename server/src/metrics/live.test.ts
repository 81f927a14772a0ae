import { describe, expect, it } from 'vitest';
import type { SessionFilter, SessionRecord } from '../sessions/store';
import { AgentPool } from '../routing/agent-pool';
import { registerLiveGauges } from './live';
import { createMetrics } from './metrics';

const T0 = Date.parse('2026-11-30T10:00:00Z');

/** A waiting session as the store gives it: only the fields the gauges read matter. */
function waiting(id: string, channel: SessionRecord['channel'], waitedSeconds: number, tier: 'expert' | 'assisted' | 'ai'): SessionRecord {
  return {
    id,
    channel,
    status: 'queued',
    skillGroup: 'general',
    routing: { skillGroup: 'general', tier } as SessionRecord['routing'],
    waitingSince: new Date(T0 - waitedSeconds * 1000).toISOString(),
  } as SessionRecord;
}

describe('registerLiveGauges', () => {
  it('reads depth, oldest wait and waits past the service level (voice 20 s, chat 60 s) at each scrape', async () => {
    let sessions = [waiting('a', 'WB', 61, 'assisted'), waiting('b', 'WB', 59, 'assisted'), waiting('c', 'SP', 21, 'expert')];
    const metrics = createMetrics();
    const pool = new AgentPool();
    pool.connect({ id: 'u1', username: 'a1', displayName: 'A1', skillGroups: ['general', 'billing'], expert: false }, 0, T0);
    registerLiveGauges(metrics, {
      store: {
        listSessions: (f: SessionFilter) => Promise.resolve(sessions.filter((s) => f.status?.includes(s.status))),
        countSessions: (f: SessionFilter) => Promise.resolve(sessions.filter((s) => f.status?.includes(s.status)).length),
      },
      pool,
      serviceLevel: { voiceSeconds: 20, chatSeconds: 60 },
      now: () => T0,
    });
    const text = await metrics.registry.metrics();
    expect(text).toContain('huiliu_queue_depth{skill_group="general",tier="assisted"} 2');
    expect(text).toContain('huiliu_queue_depth{skill_group="general",tier="expert"} 1');
    expect(text).toContain('huiliu_queue_oldest_wait_seconds{skill_group="general",tier="assisted"} 61');
    expect(text).toContain('huiliu_queue_past_service_level{skill_group="general",tier="assisted"} 1');
    // Voice: 21 s is past its 20 s threshold.
    expect(text).toContain('huiliu_queue_past_service_level{skill_group="general",tier="expert"} 1');
    expect(text).toContain('huiliu_sessions{status="queued"} 3');
    expect(text).toContain('huiliu_agents{presence="available"} 1');
    expect(text).toContain('huiliu_agents_available{skill_group="billing"} 1');

    // The queue empties and the agent goes away: the next scrape shows no stale label sets.
    sessions = [];
    pool.setPresence('u1', 'away', T0);
    const after = await metrics.registry.metrics();
    expect(after).not.toContain('huiliu_queue_depth{');
    expect(after).toContain('huiliu_sessions{status="queued"} 0');
    expect(after).not.toContain('huiliu_agents{presence="available"}');
    expect(after).toContain('huiliu_agents{presence="away"} 1');
    expect(after).not.toContain('huiliu_agents_available{');
  });
});
