import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { SessionChangeReason } from '../../../common/events/events';
import { createMemoryBus } from '../bus/bus.memory';
import { sessionChanged } from '../bus/events';
import { createLogger } from '../logging/logger';
import { createMetrics } from '../metrics/metrics';
import type { SessionRecord } from '../sessions/store';
import { createSqliteKpiEventLog } from './log.sqlite';
import { createKpiRecorder } from './recorder';

import { iso, record, T0 } from './session-fixture';

/** Issue 16: `huiliu_sla_breaches_total`, fed by the KPI recorder with the KPI's own service-level rule. */
describe('SLA breaches counted by the KPI recorder', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it('counts a chat answered after 60 s or abandoned after it, a voice call after 20 s, once each however often the bus delivers', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'huiliu-sla-'));
    const log = createSqliteKpiEventLog({ path: join(dir, 'huiliu.db') });
    const bus = createMemoryBus();
    const metrics = createMetrics();
    const recorder = createKpiRecorder({
      log,
      bus,
      logger: createLogger({ level: 'silent' }),
      sampleMs: 3_600_000,
      serviceLevel: { voiceSeconds: 20, chatSeconds: 60 },
      metrics,
    });
    cleanups.push(async () => {
      await recorder.stop();
      await bus.close();
      log.close();
      rmSync(dir, { recursive: true, force: true });
    });
    await recorder.start();
    const publish = async (s: SessionRecord, reason: SessionChangeReason, actor: string, at: number) => {
      const e = { ...sessionChanged(s, reason, actor), at: iso(at) };
      await bus.publish(e);
      return e;
    };
    const breaches = async (labels: string) => {
      const line = (await metrics.registry.metrics())
        .split('\n')
        .find((l) => l.startsWith('huiliu_sla_breaches_total{') && l.includes(labels));
      return line ? Number(line.split(' ').at(-1)) : 0;
    };

    // Chat answered in 59 s: within. Chat answered in 61 s: a breach, redelivered: still one.
    await publish(record('WB177242040000000001', { status: 'active', assignedAgentId: 'a1' }), 'accepted', 'a1', T0 + 59_000);
    const late = await publish(record('WB177242040000000002', { status: 'active', assignedAgentId: 'a1' }), 'accepted', 'a1', T0 + 61_000);
    await bus.publish(late);
    // A second answer of the late contact (a transfer's accept) is not a second breach.
    await publish(record('WB177242040000000002', { status: 'active', assignedAgentId: 'a2' }), 'accepted', 'a2', T0 + 90_000);
    // Voice answered in 21 s: past the voice threshold.
    await publish(
      record('SP177242040000000003', { channel: 'SP', status: 'active', assignedAgentId: 'a1' }),
      'accepted',
      'a1',
      T0 + 21_000,
    );
    // A chat queued then closed by the customer after 2 minutes unanswered: abandoned past the threshold.
    const sid = 'WB177242040000000004';
    await publish(record(sid), 'routed', 'system', T0 + 1_000);
    await publish(record(sid, { status: 'closed' }), 'closed', 'customer', T0 + 120_000);

    await expect.poll(() => breaches('outcome="abandoned"')).toBe(1);
    await expect.poll(() => log.has('WB177242040000000002', 'contact.answered')).toBe(true);
    expect(await breaches('skill_group="general",channel="WB",outcome="answered"')).toBe(1);
    expect(await breaches('skill_group="general",channel="SP",outcome="answered"')).toBe(1);
    expect(await breaches('skill_group="general",channel="WB",outcome="abandoned"')).toBe(1);
  });
});
