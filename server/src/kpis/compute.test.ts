import { describe, expect, it } from 'vitest';
import { buckets, buildFacts, computeKpis, DEFAULT_KPI_OPTIONS, type KpiFilter } from './compute';
import { kpiEvent, type KpiEvent, type KpiEventData, type KpiEventKind } from './events';

const T0 = Date.parse('2026-03-02T09:00:00Z');
const S = 1000;
const M = 60 * S;
const H = 60 * M;
const D = 24 * H;

let n = 0;
type Dims = Partial<Pick<KpiEvent, 'sessionId' | 'conversationId' | 'customerId' | 'skillGroup' | 'channel' | 'tier' | 'agentId'>>;
const ev = (kind: KpiEventKind, at: number, dims: Dims, data: KpiEventData = {}): KpiEvent =>
  kpiEvent({ id: `e${String(++n).padStart(4, '0')}`, kind, at, ...dims, data });

/** A contact's dimensions: session `WB…<k>`, conversation and customer derived from `k`. */
const contact = (k: string, over: Dims = {}): Dims => ({
  sessionId: `S-${k}`,
  conversationId: `conv-${k}`,
  customerId: `cust-${k}`,
  skillGroup: 'general',
  channel: 'WB',
  tier: 'expert',
  ...over,
});

/**
 * The synthetic day (docs/kpis.md, "worked example"): group `general` unless said, chat (WB) unless said.
 * C1 answered after 30 s, handled 570 s + 59 s wrap-up, resolved, rated 5.
 * C2 voice (SP), answered after 25 s (over the 20 s voice threshold), 300 s, follow-up.
 * C3 abandoned after 10 s, before any offer (inside the threshold: out of the service level).
 * C4 offered, abandoned after 90 s (after the threshold).
 * C5 answered by a1 after 40 s, transferred to a2 (its accept is not a second answer), closed by a2, resolved, rated 2.
 * C6 app (AP), answered after 10 s, resolved, survey unanswered; reopened 2 days later (C7): not FCR.
 * C8 AI tier, auto-answered, closed without hand-over (contained), survey unanswered.
 * C9 AI tier, handed over, answered by a2 after 20 s, resolved.
 * C10 group `vip`, answered after 5 s by a3, resolved.
 */
function syntheticLog(): KpiEvent[] {
  const c1 = contact('1');
  const c2 = contact('2', { channel: 'SP', tier: 'assisted' });
  const c3 = contact('3');
  const c4 = contact('4');
  const c5 = contact('5');
  const c6 = contact('6', { channel: 'AP' });
  const c7 = contact('7', { channel: 'WB', conversationId: 'conv-6', customerId: 'cust-6' });
  const c8 = contact('8', { tier: 'ai' });
  const c9 = contact('9', { tier: 'ai' });
  const c10 = contact('10', { skillGroup: 'vip' });
  const a1 = { agentId: 'a1' };
  const a2 = { agentId: 'a2' };
  return [
    // C1
    ev('contact.created', T0, c1),
    ev('contact.queued', T0, c1, { waitingSince: T0 }),
    ev('contact.offered', T0 + 20 * S, { ...c1, ...a1 }),
    ev('contact.answered', T0 + 30 * S, { ...c1, ...a1 }, { waitMs: 30 * S }),
    ev('contact.wrapped-up', T0 + 10 * M, { ...c1, ...a1 }, { disposition: 'resolved', resolvedOnFirstContact: true }),
    ev('contact.closed', T0 + 10 * M, { ...c1, ...a1 }),
    ev('csat.asked', T0 + 10 * M, c1),
    ev('csat.answered', T0 + 12 * M, c1, { score: 5 }),
    // C2
    ev('contact.created', T0 + 1 * M, c2),
    ev('contact.queued', T0 + 1 * M, c2, { waitingSince: T0 + 1 * M }),
    ev('contact.answered', T0 + 1 * M + 25 * S, { ...c2, ...a1 }, { waitMs: 25 * S }),
    ev('contact.wrapped-up', T0 + 6 * M + 25 * S, { ...c2, ...a1 }, { disposition: 'follow-up', resolvedOnFirstContact: false }),
    ev('contact.closed', T0 + 6 * M + 25 * S, { ...c2, ...a1 }),
    // C3: abandoned before any offer
    ev('contact.created', T0 + 2 * M, c3),
    ev('contact.queued', T0 + 2 * M, c3, { waitingSince: T0 + 2 * M }),
    ev('contact.abandoned', T0 + 2 * M + 10 * S, c3, { waitMs: 10 * S }),
    ev('contact.closed', T0 + 2 * M + 10 * S, c3),
    // C4
    ev('contact.created', T0 + 3 * M, c4),
    ev('contact.queued', T0 + 3 * M, c4, { waitingSince: T0 + 3 * M }),
    ev('contact.offered', T0 + 3 * M + 5 * S, { ...c4, ...a2 }),
    ev('contact.abandoned', T0 + 4 * M + 30 * S, c4, { waitMs: 90 * S }),
    ev('contact.closed', T0 + 4 * M + 30 * S, c4),
    // C5: transferred a1 → a2
    ev('contact.created', T0 + 4 * M + 20 * S, c5),
    ev('contact.queued', T0 + 4 * M + 20 * S, c5, { waitingSince: T0 + 4 * M + 20 * S }),
    ev('contact.answered', T0 + 5 * M, { ...c5, ...a1 }, { waitMs: 40 * S }),
    ev('contact.transferred', T0 + 7 * M + 45 * S, { ...c5, ...a1 }, { mode: 'warm', fromAgentId: 'a1', toSkillGroup: 'general' }),
    ev('contact.answered', T0 + 8 * M, { ...c5, ...a2 }, { waitMs: 15 * S, transfer: true }),
    ev('contact.wrapped-up', T0 + 20 * M, { ...c5, ...a2 }, { disposition: 'resolved', resolvedOnFirstContact: true }),
    ev('contact.closed', T0 + 20 * M, { ...c5, ...a2 }),
    ev('csat.asked', T0 + 20 * M, c5),
    ev('csat.answered', T0 + 25 * M, c5, { score: 2 }),
    // C6 and its reopen C7
    ev('contact.created', T0 + 29 * M, c6),
    ev('contact.queued', T0 + 29 * M + 50 * S, c6, { waitingSince: T0 + 29 * M + 50 * S }),
    ev('contact.answered', T0 + 30 * M, { ...c6, ...a1 }, { waitMs: 10 * S }),
    ev('contact.wrapped-up', T0 + 40 * M, { ...c6, ...a1 }, { disposition: 'resolved', resolvedOnFirstContact: true }),
    ev('contact.closed', T0 + 40 * M, { ...c6, ...a1 }),
    ev('csat.asked', T0 + 40 * M, c6),
    ev('contact.created', T0 + 2 * D, c7),
    ev('contact.reopened', T0 + 2 * D, c7),
    // C8: contained by the AI
    ev('contact.created', T0 + 1 * H, c8),
    ev('ai.answered', T0 + 1 * H + 2 * S, c8),
    ev('contact.closed', T0 + 1 * H + 10 * M, c8),
    ev('csat.asked', T0 + 1 * H + 10 * M, c8),
    // C9: handed over, then handled
    ev('contact.created', T0 + 1 * H + 1 * M, c9),
    ev('ai.answered', T0 + 1 * H + 2 * M, c9),
    ev('ai.handed-over', T0 + 1 * H + 5 * M, c9, { reason: 'customer-asked' }),
    ev('contact.queued', T0 + 1 * H + 5 * M, c9, { waitingSince: T0 + 1 * H + 5 * M }),
    ev('contact.answered', T0 + 1 * H + 5 * M + 20 * S, { ...c9, ...a2 }, { waitMs: 20 * S }),
    ev('contact.wrapped-up', T0 + 1 * H + 30 * M, { ...c9, ...a2 }, { disposition: 'resolved', resolvedOnFirstContact: true }),
    ev('contact.closed', T0 + 1 * H + 30 * M, { ...c9, ...a2 }),
    // C10: another group
    ev('contact.created', T0 + 2 * H, c10),
    ev('contact.queued', T0 + 2 * H, c10, { waitingSince: T0 + 2 * H }),
    ev('contact.answered', T0 + 2 * H + 5 * S, { ...c10, agentId: 'a3' }, { waitMs: 5 * S }),
    ev('contact.wrapped-up', T0 + 2 * H + 9 * M, { ...c10, agentId: 'a3' }, { disposition: 'resolved', resolvedOnFirstContact: true }),
    ev('contact.closed', T0 + 2 * H + 9 * M, { ...c10, agentId: 'a3' }),
    // a1's day: idle, handling, 59 s of after-call work after C1, idle, offline.
    ev('agent.state', T0 - 30 * M, { agentId: 'a1' }, { state: 'idle', groups: ['general'] }),
    ev('agent.state', T0, { agentId: 'a1' }, { state: 'handling', groups: ['general'] }),
    ev('agent.state', T0 + 10 * M + 1 * S, { agentId: 'a1' }, { state: 'wrap-up', groups: ['general'] }),
    ev('agent.state', T0 + 11 * M, { agentId: 'a1' }, { state: 'idle', groups: ['general'] }),
    ev('agent.state', T0 + 12 * H, { agentId: 'a1' }, { state: 'offline', groups: ['general'] }),
  ];
}

const DAY = { from: T0 - 1 * H, to: T0 + 1 * D };
const general: KpiFilter = { skillGroups: ['general'] };
const opts = (now = T0 + 10 * D) => ({ ...DEFAULT_KPI_OPTIONS, now });

describe('KPIs over a synthetic event log with known answers', () => {
  // The log is shuffled: the functions must not depend on the order it was read in.
  const log = syntheticLog().reverse();
  const facts = buildFacts(log);
  const k = computeKpis(facts, DAY, general, opts());

  it('ASA is the mean first wait of answered contacts; a transfer is not a second answer', () => {
    // C1 30, C2 25, C5 40 (not its transfer's 15), C6 10, C9 20 → 125 / 5.
    expect(k.asa).toEqual({ seconds: 25, answered: 5 });
  });

  it('service level: answered within the channel threshold / (answered + abandoned after it)', () => {
    // Within: C1, C5, C6, C9 (C2 waited 25 s > 20 s voice). Abandoned after: C4 (90 s); C3 (10 s) is left out.
    expect(k.serviceLevel).toMatchObject({
      answeredWithin: 4,
      answered: 5,
      abandonedAfter: 1,
      target: 0.8,
      thresholds: { voice: 20, chat: 60 },
    });
    expect(k.serviceLevel.rate).toBeCloseTo(4 / 6, 10);
  });

  it('abandonment counts a contact abandoned before any offer', () => {
    expect(k.abandonment).toMatchObject({ abandoned: 2, queued: 7 });
    expect(k.abandonment.rate).toBeCloseTo(2 / 7, 10);
  });

  it('AHT is talk from first answer to close plus after-call work, once per handled contact (a transfer counts once)', () => {
    // Talk: C1 570, C2 300, C5 900 (a1 and a2 together), C6 600, C9 1480 → mean 770; wrap-up: C1 59 → mean 11.8.
    expect(k.aht.handled).toBe(5);
    expect(k.aht.talkSeconds).toBeCloseTo(770, 10);
    expect(k.aht.wrapUpSeconds).toBeCloseTo(11.8, 10);
    expect(k.aht.seconds).toBeCloseTo(781.8, 10);
  });

  it('FCR: resolved, not a repeat, and no repeat within 7 days — a reopen two days later breaks it', () => {
    // Resolved first time: C1, C5, C9. C2 was not resolved; C6 was reopened (C7) two days later.
    expect(k.fcr).toEqual({ rate: 3 / 5, resolvedFirstTime: 3, handled: 5, pending: 0 });
  });

  it('FCR counts contacts whose 7 days are not over yet as pending', () => {
    expect(computeKpis(facts, DAY, general, opts(T0 + 3 * D)).fcr.pending).toBe(5);
  });

  it('CSAT: mean score, share of 4–5, and answered / asked', () => {
    // Asked: C1, C5, C6, C8; answered: 5 and 2.
    expect(k.csat).toEqual({ mean: 3.5, satisfied: 0.5, responseRate: 0.5, asked: 4, answered: 2 });
  });

  it('AI containment and hand-over rate over AI-tier contacts whose AI part ended', () => {
    expect(k.aiContainment).toEqual({ rate: 0.5, contained: 1, aiContacts: 2 });
    expect(k.handoverRate).toEqual({ rate: 0.5, handedOver: 1, aiContacts: 2 });
  });

  it('counts an AI-tier contact a person answered without a hand-over (the AI tier was off) in neither', () => {
    const off = contact('off', { tier: 'ai' });
    const log = [
      ...syntheticLog(),
      ev('contact.created', T0 + 3 * H, off),
      ev('contact.queued', T0 + 3 * H, off, { waitingSince: T0 + 3 * H }),
      ev('contact.answered', T0 + 3 * H + 5 * S, { ...off, agentId: 'a1' }, { waitMs: 5 * S }),
      ev('contact.closed', T0 + 3 * H + 5 * M, { ...off, agentId: 'a1' }),
    ];
    const withOff = computeKpis(buildFacts(log), DAY, general, opts());
    expect(withOff.aiContainment).toEqual({ rate: 0.5, contained: 1, aiContacts: 2 });
    expect(withOff.handoverRate).toEqual({ rate: 0.5, handedOver: 1, aiContacts: 2 });
    // It is still an answered contact of the group.
    expect(withOff.asa.answered).toBe(k.asa.answered + 1);
  });

  it('occupancy: handling and after-call work over staffed time (offline is not staffed)', () => {
    // Idle 1,800 s before T0 and 42,540 s after the wrap-up until offline; handling 601 s + wrap-up 59 s.
    expect(k.occupancy.handlingSeconds).toBe(660);
    expect(k.occupancy.availableSeconds).toBe(44_340);
    expect(k.occupancy.rate).toBeCloseTo(660 / 45_000, 10);
  });

  it('keeps to the skill groups asked for', () => {
    const vip = computeKpis(facts, DAY, { skillGroups: ['vip'] }, opts());
    expect(vip.asa).toEqual({ seconds: 5, answered: 1 });
    expect(vip.aiContainment.aiContacts).toBe(0);
    expect(vip.occupancy.rate).toBeNull();
    const all = computeKpis(facts, DAY, { skillGroups: null }, opts());
    expect(all.asa.answered).toBe(6);
  });

  it('an agent filter keeps what that agent did; abandonment belongs to no agent', () => {
    const a2 = computeKpis(facts, DAY, { skillGroups: ['general'], agent: 'a2' }, opts());
    // First answers by a2: C9 only (C5 was first answered by a1); closed by a2: C5 and C9.
    expect(a2.asa).toEqual({ seconds: 20, answered: 1 });
    expect(a2.aht.handled).toBe(2);
    expect(a2.aht.talkSeconds).toBeCloseTo((900 + 1480) / 2, 10);
    expect(a2.abandonment).toEqual({ rate: null, abandoned: 0, queued: 0 });
    expect(a2.occupancy.rate).toBeNull();
  });

  it('a channel filter uses that channel’s threshold', () => {
    const voice = computeKpis(facts, DAY, { skillGroups: ['general'], channel: 'SP' }, opts());
    expect(voice.asa).toEqual({ seconds: 25, answered: 1 });
    expect(voice.serviceLevel.rate).toBe(0);
  });

  it('an empty range gives nulls, never NaN or a made-up 0', () => {
    const empty = computeKpis(facts, { from: T0 + 5 * D, to: T0 + 6 * D }, general, opts());
    expect(JSON.stringify(empty)).not.toContain('NaN');
    expect(empty.csat.mean).toBeNull();
    expect(empty.csat.responseRate).toBeNull();
    expect(empty.fcr.rate).toBeNull();
    expect(empty.aht.seconds).toBeNull();
    expect(empty.asa.seconds).toBeNull();
    expect(empty.serviceLevel.rate).toBeNull();
    expect(empty.abandonment.rate).toBeNull();
    expect(empty.occupancy.rate).toBeNull();
    expect(empty.aiContainment.rate).toBeNull();
    expect(empty.handoverRate.rate).toBeNull();
    expect(computeKpis(buildFacts([]), DAY, general, opts()).asa).toEqual({ seconds: null, answered: 0 });
  });

  it('a contact that follows an earlier one about the same issue within 7 days is not a first contact', () => {
    const first = contact('x1', { customerId: 'cust-x' });
    const again = contact('x2', { customerId: 'cust-x', channel: 'AP' });
    const elsewhere = contact('x3', { customerId: 'cust-x', skillGroup: 'vip' });
    const handledContact = (c: Dims, at: number) => [
      ev('contact.created', at, c),
      ev('contact.answered', at + 10 * S, { ...c, agentId: 'a1' }, { waitMs: 10 * S }),
      ev('contact.wrapped-up', at + 5 * M, { ...c, agentId: 'a1' }, { disposition: 'resolved', resolvedOnFirstContact: true }),
      ev('contact.closed', at + 5 * M, { ...c, agentId: 'a1' }),
    ];
    const f = buildFacts([...handledContact(first, T0 - 3 * D), ...handledContact(again, T0), ...handledContact(elsewhere, T0 + 1 * H)]);
    // `first` is outside the range; `again` is its repeat (another channel, same group): not FCR.
    // `elsewhere` is another issue by proxy (another skill group): FCR.
    const r = computeKpis(f, DAY, { skillGroups: null }, opts());
    expect(r.fcr).toMatchObject({ resolvedFirstTime: 1, handled: 2 });
    // And `first` itself is broken by `again`, three days later.
    expect(computeKpis(f, { from: T0 - 4 * D, to: T0 - 2 * D }, { skillGroups: null }, opts()).fcr).toMatchObject({
      resolvedFirstTime: 0,
      handled: 1,
    });
  });

  it('a session that carries the conversation on from another channel is one contact, not a repeat', () => {
    const web = contact('m1', { customerId: 'cust-m' });
    const app = contact('m2', { customerId: 'cust-m', channel: 'AP', conversationId: 'conv-m1' });
    const f = buildFacts([
      ev('contact.created', T0, web),
      ev('contact.answered', T0 + 10 * S, { ...web, agentId: 'a1' }, { waitMs: 10 * S }),
      ev('contact.closed', T0 + 2 * M, { ...web, agentId: 'a1' }, { moved: true }),
      ev('contact.created', T0 + 2 * M, app, { movedFrom: 'S-m1' }),
      ev('contact.answered', T0 + 2 * M, { ...app, agentId: 'a1' }, { waitMs: 0 }),
      ev('contact.wrapped-up', T0 + 9 * M, { ...app, agentId: 'a1' }, { disposition: 'resolved', resolvedOnFirstContact: true }),
      ev('contact.closed', T0 + 9 * M, { ...app, agentId: 'a1' }),
    ]);
    const r = computeKpis(f, DAY, { skillGroups: null }, opts());
    expect(r.fcr).toMatchObject({ resolvedFirstTime: 1, handled: 1 });
    expect(r.abandonment.abandoned).toBe(0);
  });

  it('cuts a range into UTC buckets, clipping the ends', () => {
    const b = buckets({ from: T0 + 30 * M, to: T0 + 3 * H }, 'hour');
    expect(b.map((x) => [(x.from - T0) / M, (x.to - T0) / M])).toEqual([
      [30, 60],
      [60, 120],
      [120, 180],
    ]);
    expect(buckets(DAY, 'day')).toHaveLength(2);
  });
});
