import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { SessionChangeReason } from '../../../common/events/events';
import { createMemoryBus } from '../bus/bus.memory';
import { newEvent, sessionChanged, sessionFacts } from '../bus/events';
import { createLogger } from '../logging/logger';
import type { AgentState } from '../routing/agent-pool';
import type { SessionRecord } from '../sessions/store';
import { buildFacts, computeKpis, DEFAULT_KPI_OPTIONS } from './compute';
import { createSqliteKpiEventLog, type KpiEventLog } from './log.sqlite';
import { createKpiRecorder, type KpiRecorder } from './recorder';

import { CONV, CUST, iso, record, T0 } from './session-fixture';

describe('the KPI recorder', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  function setUp(agents: AgentState[] = []) {
    const dir = mkdtempSync(join(tmpdir(), 'huiliu-kpis-'));
    const log: KpiEventLog = createSqliteKpiEventLog({ path: join(dir, 'huiliu.db') });
    const bus = createMemoryBus();
    let clock = T0;
    const recorder: KpiRecorder = createKpiRecorder({
      log,
      bus,
      logger: createLogger({ level: 'silent' }),
      agents: () => agents,
      now: () => clock,
      sampleMs: 3_600_000,
    });
    cleanups.push(async () => {
      await recorder.stop();
      await bus.close();
      log.close();
      rmSync(dir, { recursive: true, force: true });
    });
    // The events' `at` is the real clock: `at` here places each one on the test's timeline.
    const publish = async (s: SessionRecord, reason: SessionChangeReason, actor: string, at: number) => {
      const e = sessionChanged(s, reason, actor);
      await bus.publish({ ...e, at: iso(at) });
      return e;
    };
    return { log, bus, recorder, publish, tick: (t: number) => (clock = t) };
  }

  it("records the agent's resolved-on-first-contact word, and the code's for events from before it", async () => {
    const { log, recorder, publish, bus } = setUp();
    await recorder.start();
    const close = async (sid: string, code: 'resolved' | 'follow-up', fcr: boolean | undefined) => {
      await publish(record(sid, { status: 'active', assignedAgentId: 'a1' }), 'accepted', 'a1', T0 + 12_000);
      const e = sessionChanged(record(sid, { status: 'closed', assignedAgentId: 'a1', wrapUpCode: code }), 'closed', 'a1');
      await bus.publish({
        ...e,
        at: iso(T0 + 300_000),
        payload: { ...e.payload, ...(fcr === undefined ? {} : { resolvedOnFirstContact: fcr }) },
      });
      await expect.poll(() => log.has(sid, 'contact.wrapped-up')).toBe(true);
      return log.read(T0 - 1, T0 + 1_000_000).find((x) => x.sessionId === sid && x.kind === 'contact.wrapped-up')!.data;
    };
    expect(await close('WB177242040000012391', 'follow-up', true)).toEqual({ disposition: 'follow-up', resolvedOnFirstContact: true });
    expect(await close('WB177242040000012392', 'resolved', false)).toEqual({ disposition: 'resolved', resolvedOnFirstContact: false });
    expect(await close('WB177242040000012393', 'resolved', undefined)).toEqual({ disposition: 'resolved', resolvedOnFirstContact: true });
  });

  it('records a contact queued, offered, answered and wrapped up, once however often the bus delivers', async () => {
    const { log, bus, recorder, publish } = setUp();
    await recorder.start();
    const sid = 'WB177242040000012345';
    await publish(
      record(sid, { status: 'offered', offeredAgentId: 'a1', offerExpiresAt: iso(T0 + 25_000) }),
      'routed',
      'system',
      T0 + 5_000,
    );
    const accepted = await publish(record(sid, { status: 'active', assignedAgentId: 'a1' }), 'accepted', 'a1', T0 + 12_000);
    // The bus is at least once: the same event again adds nothing.
    await bus.publish({ ...accepted, at: iso(T0 + 12_000) });
    await publish(record(sid, { status: 'closed', assignedAgentId: 'a1', wrapUpCode: 'resolved' }), 'closed', 'a1', T0 + 300_000);
    await expect.poll(() => log.has(sid, 'csat.asked')).toBe(true);
    const kinds = log.read(T0 - 1, T0 + 1_000_000).map((e) => e.kind);
    expect(kinds).toEqual(['contact.queued', 'contact.offered', 'contact.answered', 'contact.wrapped-up', 'contact.closed', 'csat.asked']);
    const answered = log.read(T0, T0 + 1_000_000).find((e) => e.kind === 'contact.answered')!;
    expect(answered).toMatchObject({ agentId: 'a1', skillGroup: 'general', channel: 'WB', customerId: CUST, data: { waitMs: 12_000 } });
    expect(log.read(T0, T0 + 1_000_000).find((e) => e.kind === 'contact.wrapped-up')!.data).toEqual({
      disposition: 'resolved',
      resolvedOnFirstContact: true,
    });
    recorder.rated({ sessionId: sid, customerId: CUST, score: 4, ratedAt: iso(T0 + 400_000) });
    recorder.rated({ sessionId: sid, customerId: CUST, score: 4, ratedAt: iso(T0 + 400_000) });
    const k = computeKpis(
      buildFacts(log.read(T0 - 1, T0 + 1_000_000)),
      { from: T0, to: T0 + 3_600_000 },
      { skillGroups: null },
      { ...DEFAULT_KPI_OPTIONS, now: T0 + 10 * 86_400_000 },
    );
    expect(k.asa).toEqual({ seconds: 12, answered: 1 });
    expect(k.csat).toEqual({ mean: 4, satisfied: 1, responseRate: 1, asked: 1, answered: 1 });
    expect(k.fcr).toMatchObject({ rate: 1, handled: 1 });
  });

  it('records a contact closed before anyone answered as abandoned, and one moved to another channel as not', async () => {
    const { log, recorder, publish } = setUp();
    await recorder.start();
    const gone = 'WB177242040000054321';
    await publish(record(gone), 'routed', 'system', T0);
    await publish(record(gone, { status: 'closed' }), 'closed', 'system', T0 + 95_000);
    const moved = 'WB177242040000099999';
    await publish(record(moved), 'routed', 'system', T0);
    await publish(record(moved, { status: 'closed', movedTo: 'AP177242040000011111' }), 'moved', 'customer', T0 + 30_000);
    await expect.poll(() => log.has(moved, 'contact.closed')).toBe(true);
    expect(log.read(T0, T0 + 100_000).find((e) => e.kind === 'contact.abandoned')).toMatchObject({
      sessionId: gone,
      data: { waitMs: 95_000 },
    });
    expect(log.has(moved, 'contact.abandoned')).toBe(false);
    expect(log.has(moved, 'csat.asked')).toBe(false);
  });

  it('records hand-overs, auto-answers, transfers and reopens', async () => {
    const { log, bus, recorder, publish } = setUp();
    await recorder.start();
    const bot = 'WB177242040000077777';
    const facts = sessionFacts(record(bot, { status: 'bot' }));
    await bus.publish({
      ...newEvent('ai.acted', { actor: 'ai', sessionId: bot, conversationId: CONV, payload: { action: 'answered', session: facts } }),
    });
    const handover = {
      at: iso(T0 + 60_000),
      reason: 'customer-asked' as const,
      by: 'customer',
      intent: null,
      confidence: null,
      noAgentOnline: false,
    };
    await publish(record(bot, { status: 'queued', handover, waitingSince: iso(T0 + 60_000) }), 'handed-over', 'customer', T0 + 60_000);
    await bus.publish(
      newEvent('transfer.changed', {
        actor: 'a1',
        sessionId: bot,
        conversationId: CONV,
        payload: {
          transferId: '0195f0a0-0000-7000-8000-0000000000f1',
          mode: 'cold',
          status: 'routed',
          fromAgentId: 'a1',
          target: { kind: 'skill-group', skillGroup: 'vip' },
          skillGroup: 'vip',
          offeredAgentId: null,
          expiresAt: null,
          session: facts,
        },
      }),
    );
    await publish(record(bot, { status: 'closed' }), 'closed', 'a1', T0 + 120_000);
    const again = 'AP177242040000088888';
    const envelope = {
      v: 1 as const,
      id: '0195f0a0-0000-7000-8000-0000000000e1',
      sessionId: again,
      conversationId: CONV,
      customerId: CUST,
      channel: 'AP' as const,
      direction: 'in' as const,
      seq: 3,
      kind: 'text' as const,
      body: { text: 'still broken' },
      critical: true,
      clientMessageId: 'c-1',
      sentAt: iso(T0 + 86_400_000),
      receivedAt: iso(T0 + 86_400_000),
      meta: {},
    };
    await expect.poll(() => log.has(bot, 'contact.closed')).toBe(true);
    await bus.publish(
      newEvent('message.in', {
        actor: 'customer',
        sessionId: again,
        conversationId: CONV,
        payload: { envelope, newSession: true, session: sessionFacts(record(again, { channel: 'AP', status: 'queued' })) },
      }),
    );
    await expect.poll(() => log.has(again, 'contact.created')).toBe(true);
    expect(log.has(again, 'contact.reopened')).toBe(true);
    // Stored `queued` before the router decided: not waiting for a person yet (it may go to the AI).
    expect(log.has(again, 'contact.queued')).toBe(false);
    const kinds = (sid: string) =>
      log
        .read(0, Date.now() + 86_400_000)
        .filter((e) => e.sessionId === sid)
        .map((e) => e.kind)
        .sort();
    expect(kinds(bot)).toEqual([
      'ai.answered',
      'ai.handed-over',
      'contact.abandoned',
      'contact.closed',
      'contact.queued',
      'contact.transferred',
      'csat.asked',
    ]);
    // No customer text reaches the log.
    expect(JSON.stringify(log.read(0, Date.now() + 86_400_000))).not.toContain('still broken');
  });

  it('samples agents: idle, handling, after-call work, away, and offline once they leave', async () => {
    const a: AgentState = {
      id: 'a1',
      username: 'agent1',
      displayName: 'A',
      skillGroups: ['general'],
      expert: false,
      presence: 'available',
      connections: 1,
      activeChats: 0,
      idleSince: T0,
    };
    const agents = [a];
    const { log, recorder, tick } = setUp(agents);
    await recorder.start();
    tick(T0 + 1000);
    a.activeChats = 1;
    recorder.sampleAgents();
    recorder.sampleAgents();
    tick(T0 + 2000);
    a.activeChats = 0;
    a.presence = 'after-call-work';
    recorder.sampleAgents();
    tick(T0 + 3000);
    a.presence = 'away';
    recorder.sampleAgents();
    tick(T0 + 4000);
    agents.length = 0;
    recorder.sampleAgents();
    const states = log.read(T0, T0 + 10_000).map((e) => [e.at - T0, e.data.state]);
    expect(states).toEqual([
      [0, 'idle'],
      [1000, 'handling'],
      [2000, 'wrap-up'],
      [3000, 'away'],
      [4000, 'offline'],
    ]);
  });
});
