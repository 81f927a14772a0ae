import { HuiliuError } from '../../../common/errors/codes';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { v7 as uuidv7 } from 'uuid';
import type { SlaPolicy } from '../../../common/api/sla';
import type { BusEvent, SessionChangeReason } from '../../../common/events/events';
import type { Envelope } from '../../../common/message/envelope';
import type { AuditEntryInput } from '../audit/audit';
import { createMemoryBus } from '../bus/bus.memory';
import { newEvent, sessionChanged, sessionFacts } from '../bus/events';
import { createSqliteKpiEventLog } from '../kpis/log.sqlite';
import { CONV, CUST, iso, record } from '../kpis/session-fixture';
import { createLogger } from '../logging/logger';
import { createMetrics } from '../metrics/metrics';
import type { SessionRecord } from '../sessions/store';
import { createSlaTracker } from './tracker';

/** Friday 27 Nov 2026 17:59 in Shanghai. */
const FRI_1759 = Date.parse('2026-11-27T17:59:00+08:00');
const MON_0904 = Date.parse('2026-11-30T09:04:00+08:00');
const nineToSix = [{ start: '09:00', end: '18:00' }];
const policy: SlaPolicy = {
  skillGroup: '*',
  channel: '*',
  firstResponseSeconds: 300,
  nextResponseSeconds: 120,
  calendar: {
    timeZone: 'Asia/Shanghai',
    hours: { mon: nineToSix, tue: nineToSix, wed: nineToSix, thu: nineToSix, fri: nineToSix },
    holidays: [],
  },
};

function envelope(sessionId: string, direction: 'in' | 'out', seq: number, at: number, authorId?: string): Envelope {
  return {
    v: 1,
    id: uuidv7(),
    sessionId,
    conversationId: CONV,
    customerId: CUST,
    channel: 'WB',
    direction,
    seq,
    critical: true,
    clientMessageId: `m-${seq}`,
    sentAt: iso(at),
    receivedAt: iso(at),
    ...(authorId ? { authorId, authorKind: 'agent' as const } : { authorKind: 'customer' as const }),
    meta: {},
    kind: 'text',
    body: { text: 'x' },
  } as Envelope;
}

describe('the SLA tracker (first and next response clocks, breaches as events)', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function setUp(
    open: { sessions: SessionRecord[]; messages: Envelope[]; erased?: string[] } = { sessions: [], messages: [] },
    policies = [policy],
  ) {
    const dir = mkdtempSync(join(tmpdir(), 'huiliu-sla-'));
    const log = createSqliteKpiEventLog({ path: join(dir, 'huiliu.db') });
    const bus = createMemoryBus();
    const metrics = createMetrics();
    const audits: AuditEntryInput[] = [];
    const published: BusEvent[] = [];
    await bus.subscribeAll('sla.breached', (e) => void published.push(e));
    const clock = { now: FRI_1759 };
    const make = () =>
      createSlaTracker({
        bus,
        store: {
          listSessions: async () => open.sessions,
          recentMessages: async (conversationId) => {
            if (open.erased?.includes(conversationId)) throw new HuiliuError('CUSTOMER_ERASED');
            return { messages: open.messages, hasOlder: false };
          },
        },
        policies: () => policies,
        log,
        audit: (e) => audits.push(e),
        metrics,
        logger: createLogger({ level: 'silent' }),
        now: () => clock.now,
      });
    const tracker = make();
    cleanups.push(async () => {
      await tracker.stop();
      await bus.close();
      log.close();
      rmSync(dir, { recursive: true, force: true });
    });
    await tracker.start();
    const counted = async (kind: string) => {
      const line = (await metrics.registry.metrics())
        .split('\n')
        .find((l) => l.startsWith('huiliu_sla_policy_breaches_total{') && l.includes(`kind="${kind}"`));
      return line ? Number(line.split(' ').at(-1)) : 0;
    };
    // The memory bus delivers on a later microtask: let the handlers run before looking.
    const settle = () => new Promise((resolve) => setImmediate(resolve));
    const change = (s: SessionRecord, reason: SessionChangeReason, actor = 'system') =>
      bus.publish(sessionChanged(s, reason, actor)).then(settle);
    const message = (s: SessionRecord, e: Envelope) =>
      bus
        .publish(
          e.direction === 'in'
            ? newEvent('message.in', {
                actor: 'customer',
                sessionId: s.id,
                conversationId: CONV,
                payload: { envelope: e, newSession: false, session: sessionFacts(s) },
              })
            : newEvent('message.out', {
                actor: e.authorId!,
                sessionId: s.id,
                conversationId: CONV,
                payload: { envelope: e, session: sessionFacts(s) },
              }),
        )
        .then(settle);
    return { tracker, log, bus, clock, audits, published, counted, change, message, make };
  }

  it('times a contact queued Friday 17:59 with a 5-minute target to Monday 09:04, and breaches it once then', async () => {
    const t = await setUp();
    const s = record('WB178000000000000001', { waitingSince: iso(FRI_1759) });
    await t.change(s, 'routed');
    expect(t.tracker.statusOf(s.id)).toEqual({ kind: 'first', dueAt: iso(MON_0904), breached: false, targetSeconds: 300 });
    t.clock.now = MON_0904 - 1;
    t.tracker.tick();
    expect(await t.counted('first')).toBe(0);
    t.clock.now = MON_0904;
    t.tracker.tick();
    t.tracker.tick();
    expect(t.tracker.statusOf(s.id)?.breached).toBe(true);
    expect(await t.counted('first')).toBe(1);
    expect(t.audits).toEqual([
      expect.objectContaining({ actor: { kind: 'system', id: 'sla' }, action: 'sla.breached', target: { kind: 'session', id: s.id } }),
    ]);
    await expect.poll(() => t.published.length).toBe(1);
    expect(t.published[0]).toMatchObject({
      type: 'sla.breached',
      actor: 'system',
      payload: { kind: 'first', dueAt: iso(MON_0904), targetSeconds: 300 },
    });
    expect(t.log.read(FRI_1759, MON_0904 + 1).filter((e) => e.kind === 'sla.breached')).toHaveLength(1);
  });

  it('stops the first clock at the first agent reply, and starts a next clock at the following customer message', async () => {
    const t = await setUp();
    const s = record('WB178000000000000002', { waitingSince: iso(FRI_1759) });
    await t.change(s, 'routed');
    const active = { ...s, status: 'active' as const, assignedAgentId: 'agent1' };
    await t.change(active, 'accepted', 'agent1');
    expect(t.tracker.statusOf(s.id)?.kind).toBe('first');
    await t.message(active, envelope(s.id, 'out', 2, FRI_1759 + 30_000, 'agent1'));
    expect(t.tracker.statusOf(s.id)).toBeUndefined();
    const asked = Date.parse('2026-11-30T10:00:00+08:00');
    await t.message(active, envelope(s.id, 'in', 3, asked));
    expect(t.tracker.statusOf(s.id)).toEqual({ kind: 'next', dueAt: iso(asked + 120_000), breached: false, targetSeconds: 120 });
    // A second customer message does not restart the clock.
    await t.message(active, envelope(s.id, 'in', 4, asked + 60_000));
    expect(t.tracker.statusOf(s.id)?.dueAt).toBe(iso(asked + 120_000));
    t.clock.now = asked + 120_000;
    t.tracker.tick();
    expect(await t.counted('next')).toBe(1);
    expect(await t.counted('first')).toBe(0);
  });

  it('stops every clock when the conversation is resolved: no breach after a close', async () => {
    const t = await setUp();
    const s = record('WB178000000000000003', { waitingSince: iso(FRI_1759) });
    await t.change(s, 'routed');
    expect(t.tracker.statusOf(s.id)?.kind).toBe('first');
    await t.change({ ...s, status: 'closed' }, 'closed', 'customer');
    expect(t.tracker.statusOf(s.id)).toBeUndefined();
    t.clock.now = MON_0904 + 3_600_000;
    t.tracker.tick();
    expect(await t.counted('first')).toBe(0);
  });

  it('does not time contacts with the AI tier', async () => {
    const t = await setUp();
    const s = record('WB178000000000000004', { status: 'bot' });
    await t.change(s, 'routed');
    expect(t.tracker.statusOf(s.id)).toBeUndefined();
  });

  it('rebuilds the clocks of open sessions at start; one already due breaches at once, and a second node or restart adds nothing', async () => {
    const s = record('WB178000000000000005', { status: 'active', assignedAgentId: 'agent1', waitingSince: iso(FRI_1759) });
    const open = {
      sessions: [s],
      messages: [
        envelope(s.id, 'in', 1, FRI_1759),
        envelope(s.id, 'out', 2, FRI_1759 + 10_000, 'agent1'),
        envelope(s.id, 'in', 3, FRI_1759 + 20_000),
      ],
    };
    const t = await setUp(open);
    // Replied once, then the customer wrote at 17:59:20: a next clock, 120 business seconds → Monday 09:01:20.
    expect(t.tracker.statusOf(s.id)).toEqual({
      kind: 'next',
      dueAt: iso(Date.parse('2026-11-30T09:01:20+08:00')),
      breached: false,
      targetSeconds: 120,
    });
    t.clock.now = MON_0904;
    const again = t.make();
    await again.start();
    expect(again.statusOf(s.id)?.breached).toBe(true);
    t.tracker.tick();
    await again.stop();
    expect(await t.counted('next')).toBe(1);
  });

  it("starts even when an open contact's customer was erased: that contact gets no clock, the others do", async () => {
    const erased = record('WB178000000000000006', { conversationId: '0190f000-0000-7000-8000-0000000000e1', waitingSince: iso(FRI_1759) });
    const kept = record('WB178000000000000007', { waitingSince: iso(FRI_1759) });
    const t = await setUp({ sessions: [erased, kept], messages: [], erased: [erased.conversationId] });
    expect(t.tracker.statusOf(erased.id)).toBeUndefined();
    expect(t.tracker.statusOf(kept.id)?.kind).toBe('first');
  });

  it('takes new targets at once on reschedule (a policy publish)', async () => {
    const policies = [policy];
    const t = await setUp(undefined, policies);
    const s = record('WB178000000000000006', { waitingSince: iso(Date.parse('2026-11-30T10:00:00+08:00')) });
    await t.change(s, 'routed');
    expect(t.tracker.statusOf(s.id)?.dueAt).toBe(iso(Date.parse('2026-11-30T10:05:00+08:00')));
    policies[0] = { ...policy, firstResponseSeconds: 60 };
    t.tracker.reschedule();
    expect(t.tracker.statusOf(s.id)?.dueAt).toBe(iso(Date.parse('2026-11-30T10:01:00+08:00')));
  });
});
