/**
 * `npm run bench -- audit` (issue 17): the audit log on SQLite (embedded) and PostgreSQL (scale-out),
 * in this process, against bare baselines measured in the same run.
 *
 *   append   entries/s through the `AuditRecorder` (what the server calls: `record`, batches of up to
 *            1,000 or 25 ms, each appended in one transaction that reads the head, chains, MACs and moves the head),
 *            BENCH_AUDIT_APPEND_N entries. Baseline: the same rows, already chained, inserted raw
 *            (better-sqlite3 prepared inserts / one pg `INSERT … SELECT FROM unnest` per batch, as the
 *            adapter does) in transactions of the recorder's batch size on the same kind of connection. Goal ≥ 10,000 entries/s.
 *   search   p95 of `search` for one user (by username, as the auditor types it: the route matches id
 *            or username) with BENCH_AUDIT_ENTRIES [10,000,000] entries spread over 6 months in the
 *            log: first pages of 100 over ranges from an hour to the whole 6 months, and the next
 *            page through the cursor. Baseline: the plain query on one index (`actor_id = ?` over the
 *            same range, no OR, no cursor). Goal p95 ≤ 200 ms.
 *
 * The search fixture is bulk-loaded straight into each adapter's schema (indexes dropped during the
 * load and rebuilt with their own definitions, then ANALYZE; PostgreSQL VACUUM (ANALYZE)), from one chain computed with
 * `chain` (audit.ts) and MACed with each store's own audit key, and the head set to its last entry:
 * `verify` accepts it (BENCH_AUDIT_VERIFY=1 walks it after the load) and appends continue the chain.
 *
 * Environment: BENCH_AUDIT_ENTRIES [10000000] (a quick run: 200000); BENCH_AUDIT_APPEND_N [50000];
 * BENCH_AUDIT_QUERIES [200] per store; BENCH_AUDIT_STORES [sqlite,pg]; BENCH_PG_URL
 * [postgres://postgres@127.0.0.1:5432/test] (a schema of the run's own, dropped at the end unless
 * BENCH_KEEP=1).
 */
import { join } from 'node:path';
import pg from 'pg';
import { auditRowValues, chain, GENESIS, headOf, macOf, type AuditEntry, type AuditEntryInput, type AuditLog } from '../src/audit/audit';
import { createPgAuditLog } from '../src/audit/audit.pg';
import { AUDIT_KEY_OWNER, createSqliteAuditLog } from '../src/audit/audit.sqlite';
import { AUDIT_BATCH, AuditRecorder } from '../src/audit/recorder';
import { openDatabase, type Db } from '../src/db/sqlite';
import { createLocalKeyProvider } from '../src/keys/provider.local';
import type { KeyProvider } from '../src/keys/provider';
import { createLogger } from '../src/logging/logger';
import { DataKeyRing } from '../src/sessions/data-keys';
import { createSqliteSessionStore } from '../src/sessions/store.sqlite';
import { createRandom } from '../src/routing/sim/prng';
import { nowMs, quantile } from './stats';

export interface AuditLine {
  line: string;
  measured: number;
  baseline: number;
  unit: 'per-second' | 'ms';
  goal: { op: '≥' | '≤'; value: number };
  detail?: string;
}

const env = process.env;
const count = (name: string, fallback: number) => {
  const v = Number(env[name] ?? fallback);
  if (!Number.isInteger(v) || v <= 0) throw new Error(`${name}: a positive integer, not "${env[name]}"`);
  return v;
};
const ENTRIES = count('BENCH_AUDIT_ENTRIES', 10_000_000);
const APPEND_N = count('BENCH_AUDIT_APPEND_N', 50_000);
const QUERIES = count('BENCH_AUDIT_QUERIES', 200);
const STORES = (env['BENCH_AUDIT_STORES'] ?? 'sqlite,pg').split(',') as ('sqlite' | 'pg')[];
const PG_URL = env['BENCH_PG_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
const DAY = 86_400_000;
/** 6 months of entries (the retention floor is 183 days). */
const SPAN_MS = 182 * DAY;
const STAFF = 500;
const CHUNK = 20_000;

const COLUMNS = [
  'seq',
  'at',
  'actor_kind',
  'actor_id',
  'actor_name',
  'action',
  'target_kind',
  'target_id',
  'outcome',
  'detail',
  'ip',
  'prev_hash',
  'hash',
  'mac',
];
const staffName = (i: number) => `agent${String(i).padStart(4, '0')}`;
const staffId = (i: number) => `0193a0b0-0000-7000-8000-${String(i).padStart(12, '0')}`;

/** A realistic mix: 60 % staff actions (500 people), 25 % AI, 15 % the router; small masked details. */
function* inputs(n: number, start: number, seed: number): Generator<AuditEntryInput[]> {
  const random = createRandom(seed);
  const rnd = () => random.next();
  const staffActions = ['session.view', 'message.reply', 'session.accepted', 'session.closed', 'customer.view', 'transfer.pending'];
  const aiActions = ['ai.answered', 'ai.drafted', 'ai.suggested', 'ai.handed-over'];
  let batch: AuditEntryInput[] = [];
  for (let i = 0; i < n; i++) {
    const at = new Date(start + Math.floor((i * SPAN_MS) / n)).toISOString();
    const session = { kind: 'session', id: `WB${start + i}${String(i % 100_000).padStart(5, '0')}`.slice(0, 20) };
    const r = rnd();
    if (r < 0.6) {
      const u = Math.floor(rnd() * STAFF);
      batch.push({
        at,
        actor: { kind: 'staff', id: staffId(u), name: staffName(u) },
        action: staffActions[Math.floor(rnd() * staffActions.length)]!,
        target: session,
        outcome: rnd() < 0.98 ? 'ok' : 'denied',
        detail: { via: 'socket' },
        ip: `10.0.${u % 250}.${(u * 7) % 250}`,
      });
    } else if (r < 0.85) {
      batch.push({
        at,
        actor: { kind: 'ai', id: 'ai' },
        action: aiActions[Math.floor(rnd() * aiActions.length)]!,
        target: session,
        outcome: 'ok',
        detail: { intent: 'delivery', confidence: 0.82 },
      });
    } else {
      batch.push({
        at,
        actor: { kind: 'system', id: 'router' },
        action: 'routing.decision',
        target: session,
        outcome: 'ok',
        detail: { skillGroup: 'general', tier: 'assisted', priority: 61 },
      });
    }
    if (batch.length === CHUNK) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length) yield batch;
}

interface Store {
  name: 'SQLite' | 'PostgreSQL';
  log: AuditLog;
  key: Buffer;
  /** Loads a chunk of chained entries (MACs recomputed with this store's key). */
  load(entries: AuditEntry[]): Promise<void>;
  /** Rebuilds the indexes, sets the head, ANALYZE. */
  finishLoad(last: AuditEntry): Promise<void>;
  /** The baseline query: one user by id on one index, same range, first page. */
  rawSearch(userId: string, from: string, to: string): Promise<number>;
  /** Raw inserts of already-chained rows in transactions of 200 (the append baseline). */
  rawInsert(entries: AuditEntry[]): Promise<void>;
  close(): Promise<void>;
}

async function sqliteStore(dir: string, keys: KeyProvider): Promise<Store> {
  const path = join(dir, 'huiliu.db');
  const sessions = await createSqliteSessionStore({ path, keys });
  const log = await createSqliteAuditLog({ path, keys });
  const raw: Db = openDatabase(path);
  const key = await new DataKeyRing(raw, keys).getOrCreate(AUDIT_KEY_OWNER);
  const indexes = (
    raw.prepare("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'audit_log' AND sql IS NOT NULL").all() as {
      name: string;
      sql: string;
    }[]
  ).filter((i) => i.name.startsWith('audit_log_'));
  const insert = raw.prepare(`INSERT INTO audit_log (${COLUMNS.join(', ')}) VALUES (${COLUMNS.map(() => '?').join(', ')})`);
  let loading = false;
  const search = raw.prepare('SELECT * FROM audit_log WHERE actor_id = ? AND at >= ? AND at < ? ORDER BY at DESC, seq DESC LIMIT 101');
  return {
    name: 'SQLite',
    log,
    key,
    async load(entries) {
      if (!loading) {
        loading = true;
        for (const i of indexes) raw.exec(`DROP INDEX ${i.name}`);
        raw.pragma('synchronous = OFF');
      }
      raw.transaction(() => {
        for (const e of entries) insert.run(...auditRowValues(e, macOf(key, e.hash)));
      })();
    },
    async finishLoad(last) {
      for (const i of indexes) raw.exec(i.sql);
      const h = headOf(key, last.seq, last.hash);
      raw.prepare("UPDATE audit_meta SET seq = ?, hash = ?, mac = ? WHERE name = 'head'").run(h.seq, h.hash, h.mac);
      raw.exec('ANALYZE');
      raw.pragma('synchronous = FULL');
      raw.pragma('wal_checkpoint(TRUNCATE)');
    },
    async rawSearch(userId, from, to) {
      return search.all(userId, from, to).length;
    },
    async rawInsert(entries) {
      for (let i = 0; i < entries.length; i += AUDIT_BATCH) {
        raw.transaction(() => {
          for (const e of entries.slice(i, i + AUDIT_BATCH)) insert.run(...auditRowValues(e, e.mac));
        })();
      }
    },
    async close() {
      raw.close();
      await log.close();
      await sessions.shutdown();
    },
  };
}

async function pgStore(schema: string, keys: KeyProvider): Promise<Store> {
  const log = await createPgAuditLog({ url: PG_URL, keys, schema });
  const pool = new pg.Pool({ connectionString: PG_URL, max: 2 });
  const row = (
    await pool.query<{ kek_id: string; wrapped: Buffer }>(`SELECT kek_id, wrapped FROM ${schema}.audit_keys WHERE owner = 'audit:mac'`)
  ).rows[0]!;
  const key = await keys.unwrapDataKey({ kekId: row.kek_id, wrapped: row.wrapped });
  const indexes = (
    await pool.query<{ name: string; sql: string }>(
      `SELECT indexname AS name, indexdef AS sql FROM pg_indexes WHERE schemaname = $1 AND tablename = 'audit_log' AND indexname <> 'audit_log_pkey'`,
      [schema],
    )
  ).rows;
  const types = ['bigint', 'timestamptz', 'text', 'text', 'text', 'text', 'text', 'text', 'text', 'jsonb', 'text', 'text', 'text', 'text'];
  const bulk = `INSERT INTO ${schema}.audit_log (${COLUMNS.join(', ')}) SELECT * FROM unnest(${types.map((t, i) => `$${i + 1}::${t}[]`).join(', ')})`;
  const months = new Set<string>();
  let loading = false;
  const ensureMonths = async (entries: AuditEntry[]) => {
    for (const at of [entries[0]!.at, entries.at(-1)!.at]) {
      const d = new Date(at);
      const name = `audit_log_${d.getUTCFullYear()}${String(d.getUTCMonth() + 1).padStart(2, '0')}`;
      if (months.has(name)) continue;
      const from = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1)).toISOString();
      const to = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1)).toISOString();
      await pool.query(
        `CREATE TABLE IF NOT EXISTS ${schema}.${name} PARTITION OF ${schema}.audit_log FOR VALUES FROM ('${from}') TO ('${to}')`,
      );
      months.add(name);
    }
  };
  const columnsOf = (entries: AuditEntry[], macs: (e: AuditEntry) => string) => {
    const cols: unknown[][] = COLUMNS.map(() => []);
    for (const e of entries) auditRowValues(e, macs(e)).forEach((v, i) => cols[i]!.push(v));
    return cols;
  };
  return {
    name: 'PostgreSQL',
    log,
    key,
    async load(entries) {
      if (!loading) {
        loading = true;
        for (const i of indexes) await pool.query(`DROP INDEX ${schema}.${i.name}`);
      }
      await ensureMonths(entries);
      await pool.query(
        bulk,
        columnsOf(entries, (e) => macOf(key, e.hash)),
      );
    },
    async finishLoad(last) {
      await pool.query("SET maintenance_work_mem = '512MB'");
      // pg_indexes writes a partitioned table's index `ON ONLY` the parent: rebuilt that way it would
      // cover no partition.
      for (const i of indexes) await pool.query(i.sql.replace(' ON ONLY ', ' ON '));
      const h = headOf(key, last.seq, last.hash);
      await pool.query(`UPDATE ${schema}.audit_meta SET seq = $1, hash = $2, mac = $3 WHERE name = 'head'`, [h.seq, h.hash, h.mac]);
      // A bulk load leaves every page without hint bits or visibility-map bits: the first reads would
      // write them (and autovacuum would soon run over the searches). A table the server has filled
      // over months has been vacuumed.
      await pool.query(`VACUUM (ANALYZE) ${schema}.audit_log`);
    },
    async rawSearch(userId, from, to) {
      return (
        await pool.query(
          `SELECT * FROM ${schema}.audit_log WHERE actor_id = $1 AND at >= $2 AND at < $3 ORDER BY at DESC, seq DESC LIMIT 101`,
          [userId, from, to],
        )
      ).rowCount!;
    },
    async rawInsert(entries) {
      await ensureMonths(entries);
      const client = await pool.connect();
      try {
        for (let i = 0; i < entries.length; i += AUDIT_BATCH) {
          await client.query('BEGIN');
          await client.query(
            bulk,
            columnsOf(entries.slice(i, i + AUDIT_BATCH), (e) => e.mac),
          );
          await client.query('COMMIT');
        }
      } finally {
        client.release();
      }
    },
    async close() {
      await log.close();
      if (env['BENCH_KEEP'] !== '1') await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await pool.end();
    },
  };
}

/** Appends APPEND_N entries through a recorder; answers entries/s. */
async function appendRate(log: AuditLog, start: number): Promise<number> {
  const recorder = new AuditRecorder(log, createLogger({ level: 'silent' }));
  const all = [...inputs(APPEND_N, start, 7)].flat();
  const t0 = nowMs();
  // Entries arrive over time as in the server: 200 per turn of the event loop, the recorder batches them.
  for (let i = 0; i < all.length; i += 200) {
    for (const e of all.slice(i, i + 200)) recorder.record(e);
    await new Promise((r) => setImmediate(r));
  }
  await recorder.flush();
  return (all.length * 1000) / (nowMs() - t0);
}

/**
 * Runs the audit lines on each store of BENCH_AUDIT_STORES; `dir` holds the SQLite file and the key.
 * Progress goes to `say`.
 */
export async function auditLines(dir: string, say: (s: string) => void): Promise<AuditLine[]> {
  const keys = createLocalKeyProvider(join(dir, 'keys'));
  const lines: AuditLine[] = [];
  const stores: Store[] = [];
  try {
    if (STORES.includes('sqlite')) stores.push(await sqliteStore(dir, keys));
    if (STORES.includes('pg')) stores.push(await pgStore(`huiliu_audit_bench_${process.pid}`, keys));
    // The fixture: ENTRIES entries over the 6 months before now, one chain, loaded into every store.
    const start = Date.now() - SPAN_MS - DAY;
    const t0 = nowMs();
    let lastSeq = 0;
    let lastHash = GENESIS;
    let last: AuditEntry | undefined;
    let pending: Promise<unknown> = Promise.resolve();
    const hashKey = stores[0]!.key;
    for (const batch of inputs(ENTRIES, start, 1)) {
      const entries = chain(batch, lastSeq, lastHash, hashKey);
      last = entries.at(-1)!;
      lastSeq = last.seq;
      lastHash = last.hash;
      // Loading a chunk overlaps chaining the next one (PostgreSQL works in its own processes).
      await pending;
      pending = Promise.all(stores.map((s) => s.load(entries)));
      if (lastSeq % 1_000_000 === 0) say(`    loaded ${(lastSeq / 1e6).toFixed(0)} M entries, ${((nowMs() - t0) / 1000).toFixed(0)} s`);
    }
    await pending;
    for (const s of stores) {
      const t = nowMs();
      await s.finishLoad(last!);
      say(`    ${s.name}: ${ENTRIES.toLocaleString('en-US')} entries loaded; indexes and ANALYZE ${((nowMs() - t) / 1000).toFixed(0)} s`);
    }
    if (env['BENCH_AUDIT_VERIFY'] === '1') for (const s of stores) say(`    ${s.name} verify: ${JSON.stringify(await s.log.verify())}`);

    for (const s of stores) {
      // Search: a user, a range ending somewhere in the 6 months, first page then the cursor's page.
      const random = createRandom(42);
      const rnd = () => random.next();
      const ranges = [3600_000, DAY, 7 * DAY, 30 * DAY, SPAN_MS];
      const ours: number[] = [];
      const base: number[] = [];
      let found = 0;
      // The first 20 searches warm the caches after the load and are not counted.
      for (let q = -20; q < QUERIES; q++) {
        const u = Math.floor(rnd() * STAFF);
        const span = ranges[(q + 20) % ranges.length]!;
        const end = start + span + Math.floor(rnd() * (SPAN_MS - span + DAY));
        const from = new Date(end - span).toISOString();
        const to = new Date(end).toISOString();
        let t = nowMs();
        const page = await s.log.search({ userId: staffName(u), from, to, limit: 100 });
        if (page.next) await s.log.search({ userId: staffName(u), from, to, limit: 100, cursor: page.next });
        const took = (nowMs() - t) / (page.next ? 2 : 1);
        t = nowMs();
        await s.rawSearch(staffId(u), from, to);
        if (q < 0) continue;
        ours.push(took);
        found += page.entries.length;
        base.push(nowMs() - t);
      }
      ours.sort((a, b) => a - b);
      base.sort((a, b) => a - b);
      const p95 = quantile(ours, 0.95);
      say(
        `    ${s.name} search, one user: p50 ${quantile(ours, 0.5).toFixed(2)} ms, p95 ${p95.toFixed(2)} ms, max ${ours.at(-1)!.toFixed(1)} ms (raw one-index query p95 ${quantile(base, 0.95).toFixed(2)} ms); ${(found / QUERIES).toFixed(0)} entries per first page`,
      );
      lines.push({
        line: `audit search p95, one user by username, ${s.name}, ${(ENTRIES / 1e6).toLocaleString('en-US')} M entries over 6 months`,
        measured: p95,
        baseline: quantile(base, 0.95),
        unit: 'ms',
        goal: { op: '≤', value: 200 },
        detail: `${QUERIES} searches, ranges 1 h … 6 months, pages of 100 (first and next by cursor); baseline: raw query by actor id on one index`,
      });

      // Append, with the 10 M entries already there: through the recorder, then the raw baseline.
      const rate = await appendRate(s.log, Date.now());
      const head = (await s.log.search({ from: new Date(0).toISOString(), to: new Date(Date.now() + DAY).toISOString(), limit: 1 }))
        .entries[0]!;
      const rows = chain([...inputs(APPEND_N, Date.now(), 9)].flat(), head.seq + 1_000_000, head.hash, s.key);
      const tr = nowMs();
      await s.rawInsert(rows);
      const rawRate = (rows.length * 1000) / (nowMs() - tr);
      say(
        `    ${s.name} append: ${Math.round(rate).toLocaleString('en-US')} entries/s through the recorder; raw inserts ${Math.round(rawRate).toLocaleString('en-US')} rows/s`,
      );
      lines.push({
        line: `audit append, ${s.name} (recorder: batches, chained + MACed)`,
        measured: rate,
        baseline: rawRate,
        unit: 'per-second',
        goal: { op: '≥', value: 10_000 },
        detail: `${APPEND_N.toLocaleString('en-US')} entries; baseline: the same rows pre-chained, raw inserts in transactions of ${AUDIT_BATCH}`,
      });
    }
  } finally {
    for (const s of stores) await s.close();
    await keys.close();
  }
  return lines;
}
