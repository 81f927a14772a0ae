/**
 * `npm run bench -- router` (issue 11): the routing engine and the what-if simulator, in this process,
 * each against a bare baseline measured in the same run.
 *
 *   live      10,000 waiting contacts, 500 agents in 5 skill groups (each falling back to the next),
 *             everyone full: an agent finishes one contact, the live router's agent-available path
 *             runs — the head of the queue the agent reaches (the 250 longest waiting and the 250 of
 *             highest priority, as the store's two pages give them) in `compareWaiting` order, then
 *             `selectAgents` WITH explanations over all 500 signed-in agents for each contact until the
 *             agent is full — and the contact that replaces the one answered arrives and is decided too
 *             (nobody free: queued, every candidate explained). Assignments per CPU second (one core) and
 *             the p99 of one assignment's decision time. Baseline: the oldest contact of the agent's
 *             group and a scan for the first agent of the group with room, over the same data.
 *   what-if   a generated day of 100,000 contacts (5 groups, 140 agents, chats and calls, AI tier,
 *             abandonment, after-call work), simulated under the current config and a draft
 *             (`what-if.ts whatIf`, the task the API runs in its worker thread). Baseline: a plain
 *             first-come-first-served M/M/N loop per group over the same arrivals, handle times and
 *             patience, twice.
 *
 *   replay    reading a recorded window from a real SessionStore (`replay.ts buildReplay` over
 *             `replayContacts`, `offersBetween`), per contact: with the what-if
 *             line, what a replay of 100,000 recorded contacts costs. Baseline: the plain way, every
 *             log entry of the window and its session row read whole with raw SELECTs and JSON.parse.
 *
 * Environment: BENCH_ROUTER_ASSIGNMENTS [20000] timed assignments; BENCH_WHATIF_CONTACTS [100000];
 * BENCH_REPLAY_READ_N [2000] recorded contacts written for the replay line (in `dir`).
 */
import { join } from 'node:path';
import type { UserView } from '../../common/api/auth';
import {
  DEFAULT_ROUTING_CONFIG,
  RoutingConfigSchema,
  type RoutingConfig,
  type RoutingDecision,
  type Tier,
} from '../../common/routing/types';
import { openDatabase } from '../src/db/sqlite';
import { createLocalKeyProvider } from '../src/keys/provider.local';
import { createSqliteSessionStore } from '../src/sessions/store.sqlite';
import { compareWaiting, proficiencyOf, ringAt, roomFor, selectAgents, type EngineAgent, type EngineContact } from '../src/routing/engine';
import { tierOf } from '../src/routing/score';
import { generateWorkload } from '../src/routing/sim/generate';
import { buildReplay } from '../src/routing/sim/replay';
import { createRandom } from '../src/routing/sim/prng';
import { pack, unpack, whatIf } from '../src/routing/sim/what-if';
import { quantile } from './stats';

export interface RouterLine {
  line: string;
  measured: number;
  baseline: number;
  unit: 'per-second' | 'ms' | 's';
  /** The goal on `measured` alone (issue 11 states absolute goals); none: a number to know. */
  goal?: { op: '≥' | '≤' | '<'; value: number };
  detail?: string;
}

const GROUPS = ['g0', 'g1', 'g2', 'g3', 'g4'];
const WAITING = 10_000;
const AGENTS = 500;
const PAGE = 250;

function liveConfig(): RoutingConfig {
  const r = createRandom(99);
  const proficiency: Record<string, Record<string, number>> = Object.fromEntries(GROUPS.map((g) => [g, {}]));
  for (let i = 0; i < AGENTS; i++) if (r.next() < 0.3) proficiency[GROUPS[i % 5]!]![`agent${i}`] = 1 + r.int(5);
  return RoutingConfigSchema.parse({
    ...DEFAULT_ROUTING_CONFIG,
    skillGroups: Object.fromEntries(GROUPS.map((g, k) => [g, { fallback: GROUPS[(k + 1) % 5], proficiency: proficiency[g] }])),
  });
}

interface Waiting extends EngineContact {
  done: boolean;
}

/** The live-assignment line: engine with explanations vs first-free scan, the same seeded data and steps. */
function liveLine(assignments: number, log: (s: string) => void): RouterLine[] {
  const config = liveConfig();
  // Groups that reach an agent's group: its own, and the one falling back to it (rings add the fallback).
  const reaching = (g: string) => [g, GROUPS[(GROUPS.indexOf(g) + 4) % 5]!];
  /** Whether `agent` could be chosen for `c` now, by the engine's rules (room, ring reach, ring proficiency). */
  const mayTake = (agent: EngineAgent, c: EngineContact, now: number) => {
    if (!roomFor(agent, c.channelKind, config.capacity).ok) return false;
    const ring = ringAt(config, c.tier, c.skillGroup, now - c.queuedAt);
    let best = 0;
    for (const g of ring.skillGroups) if (agent.skillGroups.includes(g)) best = Math.max(best, proficiencyOf(config, agent, g));
    return best > 0 && best >= ring.minProficiency;
  };

  function setUp() {
    const r = createRandom(7);
    const agents: EngineAgent[] = Array.from({ length: AGENTS }, (_, i) => {
      const voice = r.next() < 0.1;
      const second = r.next() < 0.1 ? [GROUPS[(i + 2) % 5]!] : [];
      return {
        id: `a${String(i).padStart(3, '0')}`,
        username: `agent${i}`,
        skillGroups: [GROUPS[i % 5]!, ...second],
        expert: r.next() < 0.1,
        presence: 'available',
        load: voice ? { chat: 0, voice: 1 } : { chat: config.capacity.chat, voice: 0 },
        idleSince: 0,
      };
    });
    let t = 1_800_000_000_000;
    let seq = 0;
    const byWait = new Map<string, Waiting[]>(GROUPS.map((g) => [g, []]));
    const byPriority = new Map<string, Waiting[]>(GROUPS.map((g) => [g, []]));
    const arrive = (queuedAt: number): Waiting => {
      const priority = Math.round(r.next() * 10_000) / 100;
      const c: Waiting = {
        id: `c${seq}`,
        skillGroup: GROUPS[r.int(5)]!,
        channelKind: r.next() < 0.1 ? 'voice' : 'chat',
        tier: tierOf(priority, config) as Tier,
        priority,
        queuedAt,
        seq: seq++,
        done: false,
      };
      byWait.get(c.skillGroup)!.push(c);
      return c;
    };
    // 10,000 waiting, arrived over the last 20 minutes (rings open after 30 s and 120 s).
    for (let i = 0; i < WAITING; i++) arrive(t - 1_200_000 + (i * 1_200_000) / WAITING);
    for (const g of GROUPS) byPriority.get(g)!.push(...byWait.get(g)!);
    for (const list of byPriority.values()) list.sort((a, b) => b.priority - a.priority);
    /**
     * The first `n` waiting contacts of `lists` (each sorted by `before`) merged, appended to `out`: what
     * the store's page query over several skill groups answers. Answered contacts are skipped.
     */
    const head = (lists: Waiting[][], n: number, before: (a: Waiting, b: Waiting) => boolean, out: Waiting[]) => {
      const at = lists.map(() => 0);
      for (let taken = 0; taken < n; taken++) {
        let best = -1;
        for (let k = 0; k < lists.length; k++) {
          const list = lists[k]!;
          while (at[k]! < list.length && list[at[k]!]!.done) at[k]!++;
          if (at[k]! < list.length && (best < 0 || before(list[at[k]!]!, lists[best]![at[best]!]!))) best = k;
        }
        if (best < 0) return;
        out.push(lists[best]![at[best]!++]!);
      }
    };
    let events = 0;
    /** Answered contacts are dropped from the lists now and then (the store's rows leave the queue). */
    const compact = () => {
      if (++events % 500 !== 0) return;
      for (const m of [byWait, byPriority])
        for (const [g, list] of m)
          m.set(
            g,
            list.filter((c) => !c.done),
          );
    };
    const addByPriority = (c: Waiting) => {
      const list = byPriority.get(c.skillGroup)!;
      let lo = 0;
      let hi = list.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (list[mid]!.priority >= c.priority) lo = mid + 1;
        else hi = mid;
      }
      list.splice(lo, 0, c);
    };
    return {
      r,
      agents,
      byWait,
      byPriority,
      page: (groups: readonly string[]) => {
        compact();
        const page: Waiting[] = [];
        head(
          groups.map((g) => byWait.get(g)!),
          PAGE,
          (a, b) => a.queuedAt < b.queuedAt,
          page,
        );
        head(
          groups.map((g) => byPriority.get(g)!),
          PAGE,
          (a, b) => a.priority > b.priority,
          page,
        );
        return [...new Set(page)];
      },
      oldest: (group: string, n: number) => {
        const out: Waiting[] = [];
        head([byWait.get(group)!], n, (a, b) => a.queuedAt < b.queuedAt, out);
        return out;
      },
      now: () => t,
      tick: () => (t += 50),
      arrive: () => {
        const c = arrive(t);
        addByPriority(c);
        return c;
      },
      free: () => {
        // Somebody finishes a contact: a chat, or their call.
        const a = agents[r.int(AGENTS)]!;
        if (a.load.voice > 0) a.load.voice--;
        else if (a.load.chat > 0) a.load.chat--;
        return a;
      },
    };
  }

  type Mode = 'bare' | 'engine';
  const run = (label: string, mode: Mode, assignments: number) => {
    const engine = mode !== 'bare';
    const w = setUp();
    /** Per assignment: the agent-available work divided by what it assigned, and each arrival's decision. */
    const times: number[] = [];
    /** Per `selectAgents` call with explanations. */
    const decisionTimes: number[] = [];
    /** Per assignment, CPU time (the event's agent-available work and arrivals over what it assigned): preemption by other processes left out. */
    const cpuTimes: number[] = [];
    let decisions = 0;
    let candidates = 0;
    const warm = Math.min(2000, Math.floor(assignments / 10));
    let warmed = 0;
    let counted = 0;
    let cpu0 = process.cpuUsage();
    while (counted < assignments) {
      const measuring = warmed >= warm;
      const agent = w.free();
      w.tick();
      const t0 = process.hrtime.bigint();
      const c0 = measuring ? process.cpuUsage() : null;
      let got = 0;
      if (engine) {
        // The live router's agent-available path (router.ts) on the engine: two pages of the groups
        // reaching the agent (the longest waiting, the highest priority), in the engine's queue order.
        const page = w.page([...new Set(agent.skillGroups.flatMap(reaching))]);
        const now = w.now();
        const queue = page.sort((x, y) => compareWaiting(x, y, now, config));
        for (const c of queue) {
          if (!roomFor(agent, 'chat', config.capacity).ok && !roomFor(agent, 'voice', config.capacity).ok) break;
          // Best first: skip, by the engine's own rules, contacts this agent cannot take (no room for
          // the channel kind, or not yet in reach of the contact's ring), as router.ts's couldTake does.
          if (!mayTake(agent, c, now)) continue;
          const d0 = process.hrtime.bigint();
          const s = selectAgents(c, w.agents, config, now);
          if (measuring) decisionTimes.push(Number(process.hrtime.bigint() - d0) / 1e6);
          decisions++;
          candidates += s.candidates.length;
          const chosen = s.ranked[0];
          if (!chosen) continue;
          chosen.load[c.channelKind]++;
          chosen.idleSince = now;
          c.done = true;
          got++;
        }
      } else {
        // Bare: the oldest contacts of the agent's group, the first agent of that group with room.
        for (const c of w.oldest(agent.skillGroups[0]!, 8)) {
          let chosen: EngineAgent | null = null;
          for (const a of w.agents) {
            if (!a.skillGroups.includes(c.skillGroup) || a.presence !== 'available') continue;
            if (c.channelKind === 'voice' ? a.load.voice < 1 && a.load.chat === 0 : a.load.chat < 3 && a.load.voice === 0) {
              chosen = a;
              break;
            }
          }
          decisions++;
          if (!chosen) continue;
          chosen.load[c.channelKind]++;
          c.done = true;
          got++;
          break;
        }
      }
      if (measuring && got > 0) {
        const per = Number(process.hrtime.bigint() - t0) / 1e6 / got;
        for (let k = 0; k < got; k++) times.push(per);
      }
      // Each contact answered is replaced by a new arrival, decided as it comes (nobody free: queued).
      for (let k = 0; k < got; k++) {
        const a0 = process.hrtime.bigint();
        const c = w.arrive();
        if (engine) {
          const s = selectAgents(c, w.agents, config, w.now());
          if (measuring) decisionTimes.push(Number(process.hrtime.bigint() - a0) / 1e6);
          candidates += s.candidates.length;
          const chosen = s.ranked[0];
          if (chosen) {
            chosen.load[c.channelKind]++;
            c.done = true;
          }
        } else {
          for (const a of w.agents) if (a.skillGroups.includes(c.skillGroup) && a.load.chat < 3 && a.load.voice === 0) break;
        }
        decisions++;
        if (measuring) times.push(Number(process.hrtime.bigint() - a0) / 1e6);
      }
      if (c0 && got > 0) {
        const used = process.cpuUsage(c0);
        const per = (used.user + used.system) / 1000 / got;
        for (let k = 0; k < got; k++) cpuTimes.push(per);
      }
      if (measuring) counted += got;
      else if ((warmed += got) >= warm) cpu0 = process.cpuUsage();
    }
    const cpu = process.cpuUsage(cpu0);
    const cpuS = (cpu.user + cpu.system) / 1e6;
    const perSecond = counted / cpuS;
    times.sort((a, b) => a - b);
    decisionTimes.sort((a, b) => a - b);
    cpuTimes.sort((a, b) => a - b);
    const p99 = quantile(times, 0.99);
    const cpuP99 = quantile(cpuTimes, 0.99);
    const waitingNow = [...w.byWait.values()].reduce((n, l) => n + l.filter((c) => !c.done).length, 0);
    log(
      `    ${label.padEnd(46)} ${Math.round(perSecond).toLocaleString('en-US').padStart(7)} assignments/s per core, per assignment p50 ${quantile(times, 0.5).toFixed(3)} ms p99 ${p99.toFixed(3)} ms (CPU p99 ${cpuP99.toFixed(3)} ms)` +
        (engine
          ? `; selectAgents p50 ${quantile(decisionTimes, 0.5).toFixed(3)} ms p99 ${quantile(decisionTimes, 0.99).toFixed(3)} ms, ${(decisions / (counted + warmed)).toFixed(1)} per assignment, ${Math.round(candidates / decisions)} candidates explained each`
          : '') +
        ` (${waitingNow.toLocaleString('en-US')} waiting at the end)`,
    );
    return { perSecond, p99, cpuP99, decisionP99: quantile(decisionTimes, 0.99) };
  };
  const bare = run('first-free scan (bare)', 'bare', assignments);
  const live = run('engine with explanations, best contact first', 'engine', assignments);
  return [
    {
      line: 'router: assignments per second per core, 10,000 waiting, 500 agents (vs first-free scan)',
      measured: live.perSecond,
      baseline: bare.perSecond,
      unit: 'per-second',
      goal: { op: '≥', value: 1000 },
    },
    {
      line: 'router: decision p99 with explanations, per assignment (vs first-free scan)',
      measured: live.p99,
      baseline: bare.p99,
      unit: 'ms',
      goal: { op: '≤', value: 5 },
      detail: `CPU time p99 ${live.cpuP99.toFixed(3)} ms; one selectAgents call p99 ${live.decisionP99.toFixed(3)} ms`,
    },
  ];
}

/** A plain FIFO M/M/N per group over the same arrivals: the bare cost of simulating a queue. */
function fifoBaseline(contacts: ReturnType<typeof generateWorkload>['contacts'], slotsPerGroup: Map<string, number>): number {
  const free = new Map<string, number[]>([...slotsPerGroup].map(([g, n]) => [g, new Array<number>(n).fill(0)]));
  let answered = 0;
  for (const c of contacts) {
    const slots = free.get(c.skillGroup)!;
    let m = 0;
    for (let k = 1; k < slots.length; k++) if (slots[k]! < slots[m]!) m = k;
    const start = Math.max(c.arrivalMs, slots[m]!);
    if (start - c.arrivalMs > c.patienceMs) continue;
    slots[m] = start + c.handleMs;
    answered++;
  }
  return answered;
}

function whatIfLine(n: number, log: (s: string) => void): { line: RouterLine; contacts: number; tripS: number } {
  const hours = 24;
  const startMs = Date.parse('2026-12-01T00:00:00Z');
  const perGroup = Object.fromEntries(GROUPS.map((g) => [g, 28]));
  const { contacts, agents } = generateWorkload({
    startMs,
    contactsPerHour: n / hours,
    hours,
    meanHandleSeconds: 240,
    meanPatienceSeconds: 180,
    mix: { g0: 3, g1: 2, g2: 2, g3: 1, g4: 1 },
    agents: perGroup,
    expertShare: 0.2,
    voiceShare: 0.2,
    aiContainment: 0.4,
    meanAiSeconds: 60,
    seed: 11,
  });
  const current = RoutingConfigSchema.parse({
    ...DEFAULT_ROUTING_CONFIG,
    skillGroups: Object.fromEntries(GROUPS.map((g, k) => [g, { fallback: GROUPS[(k + 1) % 5] }])),
  });
  const draft = RoutingConfigSchema.parse({
    ...current,
    weights: { value: 0.4, difficulty: 0.6 },
    thresholds: { expert: 70, assisted: 40 },
    aging: { pointsPerMinute: 5, maxBoost: 50 },
    capacity: { chat: 4, voice: 1, chatsDuringVoice: 1 },
  });
  const workload = { contacts, agents, startMs, endMs: startMs + hours * 3_600_000, aiTier: true };

  const slots = new Map(GROUPS.map((g) => [g, perGroup[g]! * current.capacity.chat]));
  const b0 = process.hrtime.bigint();
  fifoBaseline(contacts, slots);
  fifoBaseline(contacts, slots);
  const bareS = Number(process.hrtime.bigint() - b0) / 1e9;
  log(
    `    ${'plain FIFO M/M/N per group, twice (bare)'.padEnd(46)} ${bareS.toFixed(3)} s for ${contacts.length.toLocaleString('en-US')} contacts`,
  );

  // The trip to the worker thread: packed into columns, cloned, unpacked there.
  const p0 = process.hrtime.bigint();
  unpack(structuredClone(pack({ workload, current, draft })));
  const tripS = Number(process.hrtime.bigint() - p0) / 1e9;
  log(`    ${'what-if: the trip to its worker thread'.padEnd(46)} ${tripS.toFixed(3)} s (pack, structured clone, unpack)`);

  const t0 = process.hrtime.bigint();
  const cpu0 = process.cpuUsage();
  const result = whatIf({ workload, current, draft, budgetMs: 600_000 });
  if ('budgetExceeded' in result) throw new Error('the what-if bench ran over its budget');
  const out = result;
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  const cpuS = (cpu.user + cpu.system) / 1e6;
  const m = (x: typeof out.current) =>
    `SL ${(x.serviceLevel * 100).toFixed(1)} %, ASA ${x.asaSeconds} s, abandon ${(x.abandonment * 100).toFixed(1)} %, occupancy ${(x.occupancy * 100).toFixed(1)} %`;
  log(
    `    ${'what-if: current and draft (whatIf)'.padEnd(46)} ${s.toFixed(3)} s (CPU ${cpuS.toFixed(3)} s) for ${contacts.length.toLocaleString('en-US')} contacts, ${(out.events.current + out.events.draft).toLocaleString('en-US')} events; ${out.changes.total.toLocaleString('en-US')} changed`,
  );
  log(`      current: ${m(out.current)}`);
  log(`      draft:   ${m(out.draft)}`);
  return {
    contacts: contacts.length,
    tripS,
    line: {
      line: `what-if simulation of ${contacts.length.toLocaleString('en-US')} contacts, current and draft (vs plain FIFO M/M/N)`,
      measured: s,
      baseline: bareS,
      unit: 's',
      goal: { op: '<', value: 10 },
      detail: `CPU ${cpuS.toFixed(2)} s`,
    },
  };
}

/** Writes `n` recorded contacts through the real store (scored, offered, accepted, most closed), then reads them back as a replay. */
async function replayLine(dir: string, n: number, log: (s: string) => void): Promise<RouterLine> {
  const path = join(dir, 'replay.db');
  const store = await createSqliteSessionStore({ path, keys: createLocalKeyProvider(join(dir, 'keys')) });
  const from = Date.now() - 1000;
  const agents = Array.from({ length: 20 }, (_, i) => `agent-${i}`);
  const w0 = process.hrtime.bigint();
  const record = async (i: number) => {
    const at = new Date().toISOString();
    const { session } = await store.appendInbound(
      {
        identity: { channel: i % 5 === 0 ? 'SP' : 'AP', externalId: `replay-${i}` },
        content: { kind: 'text', body: { text: 'Where is my order 2024112900123?' } },
        critical: true,
        clientMessageId: `replay-${i}`,
        sentAt: at,
        receivedAt: at,
        meta: {},
      },
      { skillGroup: GROUPS[i % 5]! },
    );
    const agentId = agents[i % agents.length]!;
    const decision: RoutingDecision = {
      valueScore: 40,
      difficultyScore: 35,
      priority: 38,
      tier: 'ai',
      configVersion: 1,
      weights: { value: 0.6, difficulty: 0.4 },
      thresholds: { expert: 80, assisted: 50 },
      skillGroup: session.skillGroup,
      reasons: [{ factor: 'tier', note: 'priority 38 → ai' }],
      offeredTo: agentId,
      assignment: 'proficiency 3; idle 12 s',
      decidedAt: at,
      facts: { value: { spend: 1200, csat: 4, contacts30d: 2 }, difficulty: { messageId: 'm', channel: session.channel, contacts30d: 2 } },
      candidates: agents.map((a) => ({ agentId: a, chosen: a === agentId, reasons: ['at capacity: 3/3 chats'], codes: ['at-capacity'] })),
      trigger: 'new',
      offeredAt: at,
    };
    await store.saveRouting(session.id, decision, { agentId, expiresAt: new Date(Date.now() + 20_000).toISOString() });
    await store.claim(session.id, agentId);
    if (i % 10 !== 0) await store.close(session.id, agentId, 'resolved');
  };
  // In batches: the writer thread commits each batch's writes together.
  for (let i = 0; i < n; i += 100) await Promise.all(Array.from({ length: Math.min(100, n - i) }, (_, k) => record(i + k)));
  const writeS = Number(process.hrtime.bigint() - w0) / 1e9;
  const users = new Map<string, UserView>(
    agents.map((id) => [id, { id, username: id, displayName: id, roles: ['agent'], skillGroups: [...GROUPS], expert: false }]),
  );
  const to = Date.now() + 1000;
  const ours = async () => {
    const r0 = process.hrtime.bigint();
    const c0 = process.cpuUsage();
    const replay = await buildReplay(
      { store, userById: (id) => users.get(id) ?? null },
      { fromMs: from, toMs: to, seed: 1, maxContacts: 200_000 },
    );
    const c = process.cpuUsage(c0);
    if (replay.kind !== 'ok' || replay.workload.contacts.length !== n) throw new Error(`replay read ${replay.kind}, not ${n} contacts`);
    return { s: Number(process.hrtime.bigint() - r0) / 1e9, cpu: (c.user + c.system) / 1e6 };
  };
  // Bare: every log entry and its session row whole, raw SELECTs and JSON.parse (nothing is decrypted either way).
  const db = openDatabase(path);
  const page = db.prepare('SELECT * FROM routing_decisions WHERE at >= ? AND at < ? AND seq > ? ORDER BY at, seq LIMIT 5000');
  const one = db.prepare('SELECT * FROM sessions WHERE id = ?');
  let rows = 0;
  const bare = () => {
    const b0 = process.hrtime.bigint();
    let after = 0;
    rows = 0;
    for (;;) {
      const entries = page.all(new Date(from).toISOString(), new Date(to + 86_400_000).toISOString(), after) as {
        seq: number;
        session_id: string;
        decision_json: string;
      }[];
      for (const e of entries) {
        JSON.parse(e.decision_json);
        const s = one.get(e.session_id) as { routing_json: string | null; handover_json: string | null };
        if (s.routing_json) JSON.parse(s.routing_json);
        rows++;
      }
      if (entries.length < 5000) break;
      after = entries.at(-1)!.seq;
    }
    return Number(process.hrtime.bigint() - b0) / 1e9;
  };
  // Alternated, best of two each: the first read after the writes pays for a cold cache.
  const bares: number[] = [];
  const reads: { s: number; cpu: number }[] = [];
  for (let k = 0; k < 2; k++) {
    bares.push(bare());
    reads.push(await ours());
  }
  db.close();
  await store.shutdown();
  const bareS = Math.min(...bares);
  const { s: readS, cpu: readCpuS } = reads.reduce((x, y) => (y.s < x.s ? y : x));
  const perContact = (readS / n) * 1e6;
  log(
    `    ${'replay read: buildReplay from the store'.padEnd(46)} ${perContact.toFixed(1)} µs per contact (${n.toLocaleString('en-US')} contacts in ${readS.toFixed(2)} s, CPU ${readCpuS.toFixed(2)} s; written in ${writeS.toFixed(1)} s); 100,000 ≈ ${(perContact / 10).toFixed(1)} s`,
  );
  log(
    `    ${'whole entries and sessions, raw + JSON.parse (bare)'.padEnd(46)} ${((bareS / n) * 1e6).toFixed(1)} µs per contact (${rows} entries)`,
  );
  return {
    line: `what-if: reading a recorded window, per contact, ${n.toLocaleString('en-US')} contacts (vs whole rows, raw)`,
    measured: perContact / 1000,
    baseline: (bareS / n) * 1000,
    unit: 'ms',
    detail: `CPU ${((readCpuS / n) * 1e6).toFixed(1)} µs per contact`,
  };
}

/** Runs the router lines (see the module comment); `dir` is scratch space for the replay line's store. */
export async function routerLines(dir: string, log: (s: string) => void, env: NodeJS.ProcessEnv = process.env): Promise<RouterLine[]> {
  const assignments = Number(env.BENCH_ROUTER_ASSIGNMENTS ?? 20_000);
  const contacts = Number(env.BENCH_WHATIF_CONTACTS ?? 100_000);
  const recorded = Number(env.BENCH_REPLAY_READ_N ?? 2000);
  const simulated = whatIfLine(contacts, log);
  const read = await replayLine(dir, recorded, log);
  // A recorded day of `contacts`: its reading (per contact, as measured) and its simulation.
  const readS = (read.measured / 1000) * simulated.contacts;
  const bareReadS = (read.baseline / 1000) * simulated.contacts;
  return [
    ...liveLine(assignments, log),
    simulated.line,
    read,
    {
      line: `what-if replay of ${simulated.contacts.toLocaleString('en-US')} recorded contacts: read, to the worker, simulate (vs raw reads + FIFO loop)`,
      measured: readS + simulated.tripS + simulated.line.measured,
      baseline: bareReadS + simulated.line.baseline,
      unit: 's',
      goal: { op: '<', value: 10 },
      detail: `read ${readS.toFixed(2)} s (${recorded.toLocaleString('en-US')} read, scaled), to the worker ${simulated.tripS.toFixed(2)} s, simulate ${simulated.line.measured.toFixed(2)} s`,
    },
  ];
}
