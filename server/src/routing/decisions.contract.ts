import { randomInt, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatSessionId } from '../../../common/message/session-id';
import type { RoutingDecision, RoutingTrigger } from '../../../common/routing/types';
import type { DecisionInput, LoggedDecision, RoutingLog } from './decisions';

/** What a contract run needs from an adapter. */
export interface RoutingLogHarness {
  store: RoutingLog;
  /** A second store on the same data (another process), for concurrent appends. */
  second: RoutingLog;
  /** Makes a session the log may reference (SQLite: the sessions row, via the conversations port). */
  prepareSession(sessionId: string): Promise<void>;
  cleanup(): Promise<void>;
}

let counter = 0;
/** A fresh session ID (its epoch part grows with each call). */
export function nextLogSessionId(): string {
  counter += 1;
  return formatSessionId('WB', Date.now() + counter, randomInt(100_000));
}

export const sampleDecision = (over: Partial<RoutingDecision> = {}): RoutingDecision => ({
  valueScore: 50,
  difficultyScore: 60,
  priority: 54,
  tier: 'assisted',
  configVersion: 1,
  weights: { value: 0.6, difficulty: 0.4 },
  thresholds: { expert: 80, assisted: 50 },
  skillGroup: 'general',
  reasons: [{ factor: 'value', value: 0.5, points: 30, note: 'spend 1,000', code: 'value-spend', params: { spend: 1000 } }],
  offeredTo: 'agent-a',
  assignment: 'longest idle',
  decidedAt: '2026-03-01T10:00:00.000Z',
  trigger: 'new',
  facts: { value: { spend: 1000, csat: 4, contacts30d: 2 }, difficulty: { messageId: randomUUID(), channel: 'WB', contacts30d: 2 } },
  candidates: [{ agentId: 'agent-a', chosen: true, reasons: ['idle longest'], codes: ['chosen'] }],
  ...over,
});

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
/** A window of its own per test: hour boundaries 3 hours apart in 2025 (no two tests share entries). */
let hours = randomInt(0, 1000);
const freshHour = () => Date.UTC(2025, 0, 1) + (hours += 3) * HOUR;
const iso = (ms: number) => new Date(ms).toISOString();
const inOrder = (entries: LoggedDecision[]) =>
  entries.every((e, i) => i === 0 || entries[i - 1]!.at < e.at || (entries[i - 1]!.at === e.at && entries[i - 1]!.seq < e.seq));

/**
 * The routing decisions port's contract (decisions.ts), run against every adapter: SQLite
 * (decisions.sqlite.test.ts) and Redis Cluster (decisions.redis-cluster.test.ts).
 */
export function routingLogContract(name: string, open: () => Promise<RoutingLogHarness>): void {
  describe(`RoutingLog contract: ${name}`, () => {
    let h: RoutingLogHarness;
    beforeAll(async () => {
      h = await open();
    }, 60_000);
    afterAll(async () => {
      await h?.cleanup();
    });

    const session = async () => {
      const id = nextLogSessionId();
      await h.prepareSession(id);
      return id;
    };
    const entry = (sessionId: string, atMs: number, over: Partial<RoutingDecision> = {}, id = randomUUID()): DecisionInput => ({
      id,
      sessionId,
      at: iso(atMs),
      decision: sampleDecision(over),
    });

    it("appends decisions and lists a session's in order, with the columns the wide store fills", async () => {
      const s = await session();
      const t = freshHour();
      const first = await h.store.append(entry(s, t + 1000, { trigger: 'new', offeredTo: 'agent-a' }));
      const second = await h.store.append(entry(s, t + 21_000, { trigger: 'timeout', offeredTo: null, offerConfigVersion: 2 }));
      const third = await h.store.append(entry(s, t + 41_000, { trigger: 'declined', offeredTo: 'agent-b' }));
      expect([first, second, third].map((r) => r.duplicate)).toEqual([false, false, false]);
      expect(second.entry.seq).toBeGreaterThan(first.entry.seq);
      expect(third.entry.seq).toBeGreaterThan(second.entry.seq);
      const log = await h.store.ofSession(s);
      expect(log).toEqual([first.entry, second.entry, third.entry]);
      expect(log.map((e) => [e.cause, e.offeredTo, e.configVersion, e.at])).toEqual([
        ['new', 'agent-a', 1, iso(t + 1000)],
        ['timeout', null, 2, iso(t + 21_000)],
        ['declined', 'agent-b', 1, iso(t + 41_000)],
      ]);
      expect(log[0]!.decision).toEqual(sampleDecision({ trigger: 'new', offeredTo: 'agent-a', facts: log[0]!.decision.facts }));
      expect(await h.store.ofSession(nextLogSessionId())).toEqual([]);
    });

    it('is idempotent on the id: a retry answers the stored entry, other content under the id is refused', async () => {
      const s = await session();
      const t = freshHour();
      const input = entry(s, t + 5);
      const first = await h.store.append(input);
      const again = await h.store.append({ ...input, decision: JSON.parse(JSON.stringify(input.decision)) as RoutingDecision });
      expect(again).toEqual({ entry: first.entry, duplicate: true });
      // Another store instance (another process) sees the same id.
      expect(await h.second.append(input)).toEqual({ entry: first.entry, duplicate: true });
      await expect(h.store.append({ ...input, decision: { ...input.decision, priority: 99 } })).rejects.toMatchObject({
        code: 'IDEMPOTENCY_CONFLICT',
      });
      expect(await h.store.ofSession(s)).toEqual([first.entry]);
      expect(await h.store.between(iso(t), iso(t + HOUR))).toEqual([first.entry]);
    });

    it('refuses bad input with VALIDATION_FAILED', async () => {
      const s = await session();
      const t = freshHour();
      await expect(h.store.append({ ...entry(s, t), at: '2025-01-01 10:00' })).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
      await expect(h.store.append({ ...entry(s, t), id: '' })).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
      await expect(h.store.append({ ...entry(s, t), decision: { ...sampleDecision(), valueScore: 101 } })).rejects.toMatchObject({
        code: 'VALIDATION_FAILED',
      });
      await expect(h.store.between(iso(t + 1), iso(t))).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
      await expect(h.store.between('yesterday', iso(t))).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
      await expect(h.store.between(iso(t), iso(t + 1), { after: { at: 'then', seq: 1 } })).rejects.toMatchObject({
        code: 'VALIDATION_FAILED',
      });
      await expect(h.store.between(iso(t), iso(t + 1), { after: { at: iso(t), seq: -1 } })).rejects.toMatchObject({
        code: 'VALIDATION_FAILED',
      });
      expect(await h.store.between(iso(t), iso(t + 1), { limit: Number.NaN })).toEqual([]);
      expect(await h.store.ofSession(s)).toEqual([]);
    });

    it('pages a window across minute and hour boundaries with a stable (at, seq) cursor, and filters first decisions and offers', async () => {
      const t = freshHour() + HOUR; // an hour boundary at t
      const sessions = await Promise.all(Array.from({ length: 6 }, () => session()));
      // 18 entries over 4 minutes around the hour boundary, 3 per session, some at the same millisecond.
      const times = [t - 2 * MINUTE + 10, t - MINUTE - 1, t - 1, t, t, t + 1, t + MINUTE, t + MINUTE + 59_999, t + 2 * MINUTE + 500];
      const inputs: DecisionInput[] = [];
      sessions.forEach((s, i) => {
        for (let k = 0; k < 3; k++) {
          const at = times[(i + k * 3) % times.length]!;
          const trigger: RoutingTrigger = k === 0 ? 'new' : 'timeout';
          inputs.push(entry(s, at, { trigger, offeredTo: k === 1 ? null : `agent-${i}` }));
        }
      });
      // Appended in time order per session (a session's decisions are made in order).
      inputs.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
      for (const input of inputs) await h.store.append(input);
      // Outside the window: just before and at its end (excluded).
      const outside = await session();
      await h.store.append(entry(outside, t - 2 * MINUTE - 1));
      await h.store.append(entry(outside, t + 3 * MINUTE));

      const from = iso(t - 2 * MINUTE);
      const to = iso(t + 3 * MINUTE);
      const all = await h.store.between(from, to);
      expect(all).toHaveLength(18);
      expect(inOrder(all)).toBe(true);
      expect(new Set(all.map((e) => e.id))).toEqual(new Set(inputs.map((i) => i.id)));
      expect(all.map((e) => e.at)).toEqual(inputs.map((i) => i.at));

      for (const limit of [1, 4, 5, 17]) {
        const paged: LoggedDecision[] = [];
        for (let after: { at: string; seq: number } | undefined, guard = 0; guard < 50; guard++) {
          const page = await h.store.between(from, to, { limit, ...(after ? { after } : {}) });
          expect(page.length).toBeLessThanOrEqual(limit);
          paged.push(...page);
          if (page.length < limit) break;
          after = { at: page.at(-1)!.at, seq: page.at(-1)!.seq };
        }
        expect(paged).toEqual(all);
      }

      const firsts = await h.store.between(from, to, { filter: 'new' });
      expect(firsts).toEqual(all.filter((e) => e.cause === 'new'));
      expect(firsts).toHaveLength(6);
      const offers = await h.store.offers(from, to, { limit: 3 });
      const offersRest = await h.store.offers(from, to, { after: { at: offers[2]!.at, seq: offers[2]!.seq } });
      expect([...offers, ...offersRest]).toEqual(
        all.filter((e) => e.offeredTo !== null).map((e) => ({ seq: e.seq, at: e.at, sessionId: e.sessionId, agentId: e.offeredTo })),
      );
      expect(await h.store.between(from, from)).toEqual([]);
    });

    it('keeps the cursor stable while entries are appended: later ones show up on a later page, none twice', async () => {
      const t = freshHour();
      const s1 = await session();
      const s2 = await session();
      for (let k = 0; k < 6; k++) await h.store.append(entry(k % 2 ? s1 : s2, t + k * 20_000));
      const from = iso(t);
      const to = iso(t + HOUR);
      const page1 = await h.store.between(from, to, { limit: 3 });
      // Appended after page 1 was read: one later than the cursor (by the other instance), one in its millisecond.
      const late = await h.second.append(entry(s1, t + 30 * MINUTE));
      const tied = await h.store.append(entry(s2, Date.parse(page1[2]!.at)));
      const rest = await h.store.between(from, to, { after: { at: page1[2]!.at, seq: page1[2]!.seq } });
      const ids = [...page1, ...rest].map((e) => e.id);
      expect(new Set(ids).size).toBe(ids.length);
      expect(rest.map((e) => e.id)).toContain(late.entry.id);
      expect(rest.at(-1)).toEqual(late.entry);
      // An entry in the cursor's millisecond is on the next page only if it sorts after the cursor.
      expect(rest.some((e) => e.id === tied.entry.id)).toBe(tied.entry.seq > page1[2]!.seq);
      expect(inOrder([...page1, ...rest])).toBe(true);
    });

    it('takes concurrent appends from two store instances: unique seqs, every entry once, a contested id once', async () => {
      const t = freshHour();
      const sessions = await Promise.all(Array.from({ length: 5 }, () => session()));
      const inputs = Array.from({ length: 40 }, (_, i) => entry(sessions[i % 5]!, t + MINUTE - 2000 + i * 100));
      const contested = entry(sessions[0]!, t + 30_000);
      const results = await Promise.all([
        ...inputs.map((input, i) => (i % 2 ? h.store : h.second).append(input)),
        h.store.append(contested),
        h.second.append(contested),
      ]);
      const seqs = results.slice(0, 40).map((r) => r.entry.seq);
      expect(new Set(seqs).size).toBe(40);
      expect(
        results
          .slice(40)
          .map((r) => r.duplicate)
          .sort(),
      ).toEqual([false, true]);
      expect(results[40]!.entry).toEqual(results[41]!.entry);
      const window = await h.store.between(iso(t), iso(t + HOUR));
      expect(window).toHaveLength(41);
      expect(inOrder(window)).toBe(true);
      const fromSecond = await h.second.between(iso(t), iso(t + HOUR));
      expect(fromSecond).toEqual(window);
      for (const s of sessions) {
        const log = await h.store.ofSession(s);
        expect(log).toHaveLength(s === sessions[0] ? 9 : 8);
        expect(inOrder(log)).toBe(true);
      }
    });
  });
}
