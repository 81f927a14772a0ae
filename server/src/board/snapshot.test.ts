import { describe, expect, it } from 'vitest';
import { contactTrouble, slaWarnAt, type BoardRules, type BoardSla } from '../../../common/api/board';
import { dueTime } from '../sla/clock';
import { buildFacts, computeKpis } from '../kpis/compute';
import { kpiEvent, type KpiEvent } from '../kpis/events';
import { buildGroupBoard, groupQueueKpis, queueOutcomes, type BoardSession, type ContactTrack } from './snapshot';

const NOW = Date.parse('2026-03-02T09:00:00Z');
const DAY_START = Date.parse('2026-03-02T00:00:00Z');
const iso = (t: number) => new Date(t).toISOString();
const ago = (s: number) => iso(NOW - s * 1000);
const rules: BoardRules = { thresholds: { voice: 20, chat: 60 }, slaWarnShare: 0.8, silenceSeconds: 120 };

function session(id: string, over: Partial<BoardSession>): BoardSession {
  return {
    id,
    customerId: `c-${id}`,
    channel: 'WB',
    status: 'queued',
    skillGroup: 'general',
    assignedAgentId: null,
    waitingSince: ago(0),
    updatedAt: ago(0),
    routing: null,
    ...over,
  };
}

const sessions: BoardSession[] = [
  session('s1', { channel: 'WB', routing: { tier: 'expert' }, waitingSince: ago(50) }),
  session('s2', { channel: 'AP', status: 'offered', routing: { tier: 'ai' }, waitingSince: ago(70) }),
  session('s3', { channel: 'SP', waitingSince: ago(10) }),
  session('s4', { status: 'bot', routing: { tier: 'ai' }, waitingSince: ago(300) }),
  session('s5', { channel: 'WX', status: 'active', assignedAgentId: 'a1', routing: { tier: 'assisted' }, waitingSince: ago(400) }),
  session('s6', { skillGroup: 'vip', waitingSince: ago(500), routing: { tier: 'expert' } }),
];
const tracks = new Map<string, ContactTrack>([
  ['s5', { unansweredSince: NOW - 130_000, emotion: 'anger' }],
  ['s1', { unansweredSince: NOW - 50_000, emotion: 'neutral' }],
]);
const agents = [
  { id: 'a1', username: 'agent1', displayName: 'Agent One', skillGroups: ['general'], presence: 'available' as const, activeChats: 2 },
  { id: 'a2', username: 'agent2', displayName: '', skillGroups: ['general', 'vip'], presence: 'away' as const, activeChats: 0 },
  { id: 'a3', username: 'agent3', displayName: 'Three', skillGroups: ['vip'], presence: 'available' as const, activeChats: 1 },
];
const noKpis = {
  last15m: { rate: null, answeredWithin: 0, answered: 0, abandonedAfter: 0 },
  today: { rate: null, answeredWithin: 0, answered: 0, abandonedAfter: 0 },
  abandonment: { rate: null, abandoned: 0, queued: 0 },
};

describe('live board snapshot (issue 16)', () => {
  const board = buildGroupBoard({
    skillGroup: 'general',
    sessions,
    names: new Map([
      ['c-s1', 'Li 13812345678'],
      ['c-s5', 'Wang'],
    ]),
    tracks,
    agents,
    chatCapacity: 3,
    kpis: noKpis,
    target: 0.8,
    rules,
    now: NOW,
  });

  it('counts the waiting contacts of the group by tier and channel, and the longest wait', () => {
    expect(board.waiting).toEqual({
      total: 3,
      byTier: { expert: 1, assisted: 0, ai: 1, unrouted: 1 },
      byChannel: { WB: 1, AP: 1, SP: 1 },
      longestSince: ago(70),
    });
    expect(board.withAi).toBe(1);
    expect(board.active).toBe(1);
    expect(board.contactsTotal).toBe(5);
  });

  it("lists the group's agents by presence with their load against capacity", () => {
    expect(board.agents.byPresence).toEqual({ available: 1, away: 1 });
    expect(board.agents.list).toEqual([
      { id: 'a1', name: 'Agent One', presence: 'available', activeChats: 2, capacity: 3 },
      { id: 'a2', name: 'agent2', presence: 'away', activeChats: 0, capacity: 3 },
    ]);
  });

  it('orders contacts waiting first (longest first), then with agents, then with the AI, and flags trouble', () => {
    expect(board.contacts.map((c) => [c.sessionId, c.trouble])).toEqual([
      ['s2', ['sla-breached']],
      ['s1', ['sla-risk']],
      ['s3', []],
      ['s5', ['customer-waiting', 'negative-emotion']],
      ['s4', []],
    ]);
    const s5 = board.contacts.find((c) => c.sessionId === 's5')!;
    expect(s5).toMatchObject({ assignedAgentName: 'Agent One', unansweredSince: iso(NOW - 130_000), emotion: 'anger', tier: 'assisted' });
  });

  it('shows masked names only, and no other group’s contact', () => {
    const s1 = board.contacts.find((c) => c.sessionId === 's1')!;
    expect(s1.customerName).not.toContain('13812345678');
    expect(s1.customerName.startsWith('Li ')).toBe(true);
    expect(board.contacts.find((c) => c.sessionId === 's3')!.customerName).toBe('—');
    expect(board.contacts.some((c) => c.skillGroup !== 'general')).toBe(false);
    expect(JSON.stringify(board)).not.toContain('s6');
  });

  it('flags a waiting voice call at 80 % of 20 s and a chat at 80 % of 60 s, and a silence only on an agent’s contact', () => {
    const base = { unansweredSince: null, emotion: null } as const;
    expect(contactTrouble({ ...base, status: 'queued', channel: 'SP', waitingSince: iso(NOW - 15_999) }, NOW, rules)).toEqual([]);
    expect(contactTrouble({ ...base, status: 'queued', channel: 'SP', waitingSince: iso(NOW - 16_000) }, NOW, rules)).toEqual(['sla-risk']);
    expect(contactTrouble({ ...base, status: 'queued', channel: 'SP', waitingSince: iso(NOW - 20_001) }, NOW, rules)).toEqual([
      'sla-breached',
    ]);
    expect(contactTrouble({ ...base, status: 'queued', channel: 'WB', waitingSince: iso(NOW - 47_999) }, NOW, rules)).toEqual([]);
    expect(contactTrouble({ ...base, status: 'offered', channel: 'WB', waitingSince: iso(NOW - 48_000) }, NOW, rules)).toEqual([
      'sla-risk',
    ]);
    const silent = { status: 'active' as const, channel: 'WB' as const, waitingSince: iso(NOW - 999_000), emotion: null };
    expect(contactTrouble({ ...silent, unansweredSince: iso(NOW - 119_000) }, NOW, rules)).toEqual([]);
    expect(contactTrouble({ ...silent, unansweredSince: iso(NOW - 120_000) }, NOW, rules)).toEqual(['customer-waiting']);
    expect(contactTrouble({ ...silent, status: 'bot', unansweredSince: iso(NOW - 500_000) }, NOW, rules)).toEqual([]);
    expect(contactTrouble({ ...silent, unansweredSince: null, emotion: 'sadness' }, NOW, rules)).toEqual(['negative-emotion']);
    expect(contactTrouble({ ...silent, unansweredSince: null, emotion: 'happiness' }, NOW, { ...rules, slaWarnShare: 0.5 })).toEqual([]);
  });
});

describe('board trouble from the SLA clocks (docs/sla.md, docs/lead-board.md)', () => {
  const waiting = { status: 'queued' as const, channel: 'WB' as const, unansweredSince: null, emotion: null };
  // A first-response clock of 300 s due at NOW + 61 s: the warn point (last 20 %, 60 s) is at NOW + 1 s.
  const clock: BoardSla = { kind: 'first', dueAt: iso(NOW + 61_000), breached: false, targetSeconds: 300 };

  it('follows the clock, not the service-level threshold: risk from the last 20 % of the target, breached at the due time', () => {
    // Waiting 10 min (far past the 60 s chat threshold) but the clock has 61 s left: no SLA flag.
    const c = { ...waiting, waitingSince: ago(600), sla: clock };
    expect(contactTrouble(c, NOW, rules)).toEqual([]);
    expect(slaWarnAt(clock, rules)).toBe(NOW + 1_000);
    expect(contactTrouble(c, NOW + 999, rules)).toEqual([]);
    expect(contactTrouble(c, NOW + 1_000, rules)).toEqual(['sla-risk']);
    expect(contactTrouble(c, NOW + 60_999, rules)).toEqual(['sla-risk']);
    expect(contactTrouble(c, NOW + 61_000, rules)).toEqual(['sla-breached']);
    // The tracker's word wins even before the due time (it recorded the breach).
    expect(contactTrouble({ ...c, sla: { ...clock, breached: true } }, NOW, rules)).toEqual(['sla-breached']);
    // A wider warn share moves the warn point.
    expect(contactTrouble(c, NOW, { ...rules, slaWarnShare: 0.5 })).toEqual(['sla-risk']);
    // An agent's contact with a next-response clock is flagged the same way.
    const next = {
      ...c,
      status: 'active' as const,
      sla: { ...clock, kind: 'next' as const, targetSeconds: 120, dueAt: iso(NOW + 20_000) },
    };
    expect(contactTrouble(next, NOW, rules)).toEqual(['sla-risk']);
  });

  it('a clock paused outside business hours is not at risk; never due is never flagged', () => {
    const calendar = {
      timeZone: 'Asia/Shanghai',
      hours: { fri: [{ start: '09:00', end: '18:00' }], mon: [{ start: '09:00', end: '18:00' }] },
      holidays: [],
    };
    // Queued Friday 17:59 with a 300 s target: 60 s today, the rest from Monday 09:00 → due Monday 09:04.
    const queued = Date.parse('2026-11-27T17:59:00+08:00');
    const due = dueTime(calendar, queued, 300)!;
    expect(due).toBe(Date.parse('2026-11-30T09:04:00+08:00'));
    const c = {
      ...waiting,
      waitingSince: iso(queued),
      sla: { kind: 'first' as const, dueAt: iso(due), breached: false, targetSeconds: 300 },
    };
    // Friday night and Sunday: the clock is paused, the contact is not about to breach (nor past the 60 s threshold rule).
    expect(contactTrouble(c, Date.parse('2026-11-27T22:00:00+08:00'), rules)).toEqual([]);
    expect(contactTrouble(c, Date.parse('2026-11-29T23:59:00+08:00'), rules)).toEqual([]);
    // Monday 09:03 (60 s of business time left): at risk; 09:04: breached.
    expect(contactTrouble(c, Date.parse('2026-11-30T09:03:00+08:00'), rules)).toEqual(['sla-risk']);
    expect(contactTrouble(c, due, rules)).toEqual(['sla-breached']);
    const never = { ...c, sla: { kind: 'first' as const, dueAt: null, breached: false, targetSeconds: 300 } };
    expect(contactTrouble(never, Date.parse('2027-01-01T00:00:00Z'), rules)).toEqual([]);
  });

  it('falls back to the service-level threshold only without a clock', () => {
    expect(contactTrouble({ ...waiting, waitingSince: ago(61), sla: null }, NOW, rules)).toEqual(['sla-breached']);
    expect(contactTrouble({ ...waiting, status: 'bot', waitingSince: ago(6100), sla: null }, NOW, rules)).toEqual([]);
  });
});

describe('live board service level and abandonment (docs/kpis.md definitions)', () => {
  let n = 0;
  const ev = (kind: KpiEvent['kind'], atMs: number, over: Partial<KpiEvent> = {}) =>
    kpiEvent({ id: `e${++n}`, kind, at: atMs, sessionId: `k${n}`, skillGroup: 'general', channel: 'WB', ...over });
  const min = 60_000;
  const events: KpiEvent[] = [
    ev('contact.answered', NOW - 5 * min, { data: { waitMs: 30_000 } }), // within, last 15 min
    ev('contact.answered', NOW - 20 * min, { data: { waitMs: 90_000 } }), // late, today only
    ev('contact.abandoned', NOW - 10 * min, { data: { waitMs: 100_000 } }), // after the threshold: counts against
    ev('contact.abandoned', NOW - 60 * min, { channel: 'SP', data: { waitMs: 10_000 } }), // within 20 s: left out of SL
    ev('contact.answered', NOW - min, { skillGroup: 'vip', data: { waitMs: 1_000 } }), // another group
    ev('contact.answered', DAY_START - 60 * min, { data: { waitMs: 1_000 } }), // yesterday
    // Facts the board does not keep: they change nothing.
    ev('contact.created', NOW - 30 * min),
    ev('agent.state', NOW - 30 * min, { sessionId: null, agentId: 'a1', data: { state: 'idle', groups: ['general'] } }),
  ];

  it('gives the known answers for the last 15 minutes and today', () => {
    const k = groupQueueKpis(queueOutcomes(events), 'general', NOW, DAY_START, rules);
    expect(k.last15m).toEqual({ rate: 0.5, answeredWithin: 1, answered: 1, abandonedAfter: 1 });
    expect(k.today).toEqual({ rate: 1 / 3, answeredWithin: 1, answered: 2, abandonedAfter: 1 });
    expect(k.abandonment).toEqual({ rate: 0.5, abandoned: 2, queued: 4 });
  });

  it('agrees with the KPI report computed over the whole log for the same ranges', () => {
    const full = buildFacts(events);
    const options = { thresholds: rules.thresholds, target: 0.8, now: NOW };
    const k = groupQueueKpis(queueOutcomes(events), 'general', NOW, DAY_START, rules);
    for (const [from, mine] of [
      [NOW - 15 * min, k.last15m],
      [DAY_START, k.today],
    ] as const) {
      const report = computeKpis(full, { from, to: NOW + 1 }, { skillGroups: ['general'] }, options);
      expect(mine.rate).toBe(report.serviceLevel.rate);
      expect(mine.answered).toBe(report.serviceLevel.answered);
    }
    expect(k.abandonment.rate).toBe(
      computeKpis(full, { from: DAY_START, to: NOW + 1 }, { skillGroups: ['general'] }, options).abandonment.rate,
    );
  });

  it('agrees with computeKpis on 2,000 random contacts: transfers re-answered, abandoned after an answer, voice and chat, two groups', () => {
    let seed = 42;
    const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const log: KpiEvent[] = [];
    const used = new Set<number>();
    // Distinct instants: at an exact tie buildFacts orders by id, which the board does not model.
    const at = () => {
      let t: number;
      do t = DAY_START - 3 * 3_600_000 + Math.floor(rnd() * (NOW - DAY_START + 3 * 3_600_000));
      while (used.has(t));
      used.add(t);
      return t;
    };
    for (let i = 0; i < 2000; i++) {
      const dims = {
        sessionId: `r${i}`,
        skillGroup: rnd() < 0.5 ? 'general' : 'vip',
        channel: rnd() < 0.2 ? ('SP' as const) : ('WB' as const),
      };
      const waitMs = () => Math.floor(rnd() * 120_000);
      const roll = rnd();
      if (roll < 0.6) log.push(kpiEvent({ id: `r${i}a`, kind: 'contact.answered', at: at(), ...dims, data: { waitMs: waitMs() } }));
      else log.push(kpiEvent({ id: `r${i}b`, kind: 'contact.abandoned', at: at(), ...dims, data: { waitMs: waitMs() } }));
      if (rnd() < 0.2)
        log.push(kpiEvent({ id: `r${i}c`, kind: 'contact.answered', at: at(), ...dims, data: { waitMs: waitMs(), transfer: true } }));
      if (rnd() < 0.1) log.push(kpiEvent({ id: `r${i}d`, kind: 'contact.abandoned', at: at(), ...dims, data: { waitMs: waitMs() } }));
    }
    const full = buildFacts(log);
    const outcomes = queueOutcomes(log);
    const options = { thresholds: rules.thresholds, target: 0.8, now: NOW };
    for (const g of ['general', 'vip']) {
      const mine = groupQueueKpis(outcomes, g, NOW, DAY_START, rules);
      const today = computeKpis(full, { from: DAY_START, to: NOW + 1 }, { skillGroups: [g] }, options);
      const recent = computeKpis(full, { from: NOW - 15 * min, to: NOW + 1 }, { skillGroups: [g] }, options);
      const sl = (k: typeof today) => ({
        rate: k.serviceLevel.rate,
        answeredWithin: k.serviceLevel.answeredWithin,
        answered: k.serviceLevel.answered,
        abandonedAfter: k.serviceLevel.abandonedAfter,
      });
      expect(mine.today).toEqual(sl(today));
      expect(mine.last15m).toEqual(sl(recent));
      expect(mine.abandonment).toEqual(today.abandonment);
      expect(today.serviceLevel.answered).toBeGreaterThan(100);
    }
  });
});
