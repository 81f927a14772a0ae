/**
 * `npm run bench -- desktop`: local history open (issue 15, DESIGN §9: p95 ≤ 5 ms), on the real local
 * store (better-sqlite3 in Node, AES-256-GCM records, blind indexes) filled like a busy agent's:
 * BENCH_DESKTOP_CONVERSATIONS [500] conversations with a full last-10 history each and a draft in
 * every fifth. Each sample opens a random conversation's history, the way the renderer does on a
 * click; BENCH_DESKTOP_OPENS [5000] samples after 500 warm-up opens. The baseline, in the same run, is
 * raw better-sqlite3 reading the same ten plaintext JSON rows from an equal table and parsing them.
 * A second line measures the bridge handler (zod check + store), everything but Electron's IPC hop.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { IPC_CHANNELS } from '../../../common/ipc/channels';
import { registerBridgeHandlers } from '../bridge-handlers';
import { LocalStore } from '../local-store';
import { createTestSafeStorage } from '../local-store/fake-safe-storage';
import { messageView } from '../local-store/fixtures';

export interface DesktopLine {
  line: string;
  /** p95 in ms. */
  measured: number;
  /** The baseline's p95 in ms. */
  baseline: number;
  goal: { op: '≤'; value: number } | null;
  detail: string;
}

const now = () => Number(process.hrtime.bigint()) / 1e6;

function quantiles(samples: number[] & { cpuUs?: number }) {
  const cpuUs = samples.cpuUs ?? NaN;
  samples.sort((a, b) => a - b);
  const q = (p: number) => samples[Math.min(samples.length - 1, Math.max(0, Math.ceil(p * samples.length) - 1))]!;
  return { p50: q(0.5), p95: q(0.95), p99: q(0.99), max: samples.at(-1)!, cpuUs };
}

/** Wall-clock samples of `open`, and the CPU time per open (µs): on a busy machine the two differ. */
async function sample(
  opens: number,
  pick: () => string,
  open: (conversationId: string) => unknown,
): Promise<number[] & { cpuUs?: number }> {
  for (let i = 0; i < 500; i++) await open(pick());
  const samples: number[] & { cpuUs?: number } = [];
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < opens; i++) {
    const id = pick();
    const t0 = now();
    await open(id);
    samples.push(now() - t0);
  }
  const cpu = process.cpuUsage(cpu0);
  samples.cpuUs = (cpu.user + cpu.system) / opens;
  return samples;
}

/** Runs the desktop lines in `dir` (a temporary directory when omitted). */
export async function desktopLines(
  log: (s: string) => void,
  dir = mkdtempSync(join(tmpdir(), 'huiliu-desktop-bench-')),
): Promise<DesktopLine[]> {
  const conversations = Number(process.env.BENCH_DESKTOP_CONVERSATIONS ?? 500);
  const opens = Number(process.env.BENCH_DESKTOP_OPENS ?? 5000);
  const ids = Array.from({ length: conversations }, (_, i) => `0193a1b2-c3d4-7e5f-8a9b-${String(i).padStart(12, '0')}`);
  const pick = () => ids[Math.floor(Math.random() * ids.length)]!;

  const store = new LocalStore({ file: join(dir, 'local-store.db'), safeStorage: createTestSafeStorage() });
  store.bindUser('agent-bench');
  const raw = new Database(join(dir, 'raw.db'));
  raw.pragma('journal_mode = WAL');
  raw.exec(
    'CREATE TABLE interaction (conv TEXT NOT NULL, seq INTEGER NOT NULL, body TEXT NOT NULL, PRIMARY KEY (conv, seq)) WITHOUT ROWID',
  );
  const insertRaw = raw.prepare('INSERT INTO interaction (conv, seq, body) VALUES (?, ?, ?)');
  const t0 = now();
  ids.forEach((id, i) => {
    // Each conversation's history arrives in pages over time: 25 messages, the last 10 kept.
    const messages = Array.from({ length: 25 }, (_, k) => messageView(id, k + 1));
    store.saveHistory(id, `cust-${i}`, messages.slice(0, 15));
    store.saveHistory(id, `cust-${i}`, messages.slice(15));
    if (i % 5 === 0) store.saveDraft(id, `cust-${i}`, '您好，关于您的订单，我们已经安排今天发货，稍后请留意物流短信。');
    raw.transaction(() => {
      for (const m of messages.slice(-10)) insertRaw.run(id, m.seq, JSON.stringify(m));
    })();
  });
  log(`    filled ${conversations} conversations × 10 interactions in ${(now() - t0).toFixed(0)} ms (${JSON.stringify(store.counts())})`);

  const selectRaw = raw.prepare('SELECT body FROM interaction WHERE conv = ? ORDER BY seq');
  const baseline = quantiles(await sample(opens, pick, (id) => (selectRaw.all(id) as { body: string }[]).map((r) => JSON.parse(r.body))));
  const measured = quantiles(
    await sample(opens, pick, (id) => {
      const h = store.history(id);
      if (h.length !== 10) throw new Error(`history of ${h.length}`);
    }),
  );
  const handlers = registerBridgeHandlers({
    ipcMain: { handle: () => undefined },
    appVersion: 'bench',
    platform: process.platform,
    showNotification: () => false,
    setBadgeCount: () => undefined,
    openExternal: async () => undefined,
    focusSession: () => undefined,
    isTrustedSender: () => true,
    localStore: store,
  });
  const viaBridge = quantiles(await sample(opens, pick, (id) => handlers[IPC_CHANNELS.localHistory]!({ conversationId: id })));
  store.close();
  raw.close();

  const show = (label: string, q: ReturnType<typeof quantiles>) =>
    log(
      `    ${label.padEnd(46)} p50 ${q.p50.toFixed(3)} ms  p95 ${q.p95.toFixed(3)} ms  p99 ${q.p99.toFixed(3)} ms  max ${q.max.toFixed(2)} ms  CPU ${q.cpuUs.toFixed(0)} µs/open`,
    );
  show('raw better-sqlite3, plaintext JSON (baseline)', baseline);
  show('local store history(), one sealed record of 10', measured);
  show('bridge handler (zod + local store)', viaBridge);
  const detail = (q: ReturnType<typeof quantiles>) =>
    `${opens} opens of ${conversations} conversations; p50 ${q.p50.toFixed(3)} ms, p99 ${q.p99.toFixed(3)} ms, CPU ${q.cpuUs.toFixed(0)} µs/open (baseline ${baseline.cpuUs.toFixed(0)})`;
  return [
    {
      line: 'desktop: local history open p95 (10 interactions, encrypted local store)',
      measured: measured.p95,
      baseline: baseline.p95,
      goal: { op: '≤', value: 5 },
      detail: detail(measured),
    },
    {
      line: 'desktop: local history open p95 through the bridge handler (no IPC hop)',
      measured: viaBridge.p95,
      baseline: baseline.p95,
      goal: { op: '≤', value: 5 },
      detail: detail(viaBridge),
    },
  ];
}
