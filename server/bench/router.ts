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
 * Environment: BENCH_ROUTER_ASSIGNMENTS [20000] timed assignments; BENCH_WHATIF_CONTACTS [100000].
 */
import { DEFAULT_ROUTING_CONFIG, RoutingConfigSchema, type RoutingConfig, type Tier } from '../../common/routing/types';
import { compareWaiting, proficiencyOf, ringAt, roomFor, selectAgents, type EngineAgent, type EngineContact } from '../src/routing/engine';
import { tierOf } from '../src/routing/score';
import { generateWorkload } from '../src/routing/sim/generate';
import { createRandom } from '../src/routing/sim/prng';
import { whatIf } from '../src/routing/sim/what-if';
import { quantile } from './stats';

export interface RouterLine {
  line: string;
  measured: number;
  baseline: number;
  unit: 'per-second' | 'ms' | 's';
  /** The goal on `measured` alone (issue 11 states absolute goals). */
  goal: { op: '≥' | '≤' | '<'; value: number };
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

  type Mode = 'bare' | 'engine' | 'router-loop';
  const run = (label: string, mode: Mode) => {
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
          // the channel kind, or not yet in reach of the contact's ring); router.ts offers each in turn.
          if (mode === 'engine' && !mayTake(agent, c, now)) continue;
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
  const bare = run('first-free scan (bare)', 'bare');
  const live = run('engine with explanations, best contact first', 'engine');
  const loop = run("engine, router.ts's agent-available loop", 'router-loop');
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
    {
      line: "router: assignments per second per core, router.ts's agent-available loop (vs first-free scan)",
      measured: loop.perSecond,
      baseline: bare.perSecond,
      unit: 'per-second',
      goal: { op: '≥', value: 1000 },
      detail: `p99 per assignment ${loop.p99.toFixed(3)} ms`,
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

function whatIfLine(n: number, log: (s: string) => void): RouterLine {
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

  const t0 = process.hrtime.bigint();
  const out = whatIf({ workload, current, draft });
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  const m = (x: typeof out.current) =>
    `SL ${(x.serviceLevel * 100).toFixed(1)} %, ASA ${x.asaSeconds} s, abandon ${(x.abandonment * 100).toFixed(1)} %, occupancy ${(x.occupancy * 100).toFixed(1)} %`;
  log(
    `    ${'what-if: current and draft (whatIf)'.padEnd(46)} ${s.toFixed(3)} s for ${contacts.length.toLocaleString('en-US')} contacts, ${(out.events.current + out.events.draft).toLocaleString('en-US')} events; ${out.changes.total.toLocaleString('en-US')} changed`,
  );
  log(`      current: ${m(out.current)}`);
  log(`      draft:   ${m(out.draft)}`);
  return {
    line: `what-if replay of ${contacts.length.toLocaleString('en-US')} contacts, current and draft (vs plain FIFO M/M/N)`,
    measured: s,
    baseline: bareS,
    unit: 's',
    goal: { op: '<', value: 10 },
  };
}

/** Runs the router lines (see the module comment). */
export function routerLines(log: (s: string) => void, env: NodeJS.ProcessEnv = process.env): RouterLine[] {
  const assignments = Number(env.BENCH_ROUTER_ASSIGNMENTS ?? 20_000);
  const contacts = Number(env.BENCH_WHATIF_CONTACTS ?? 100_000);
  return [...liveLine(assignments, log), whatIfLine(contacts, log)];
}
