import pg from 'pg';
import { HuiliuError } from '../../../common/errors/codes';
import type { KeyProvider } from '../keys/provider';
import type { StaleWrappedKey, WrappedKeyHolder } from '../keys/rewrap';
import {
  anchorMac,
  chain,
  decodeCursor,
  encodeCursor,
  auditRowValues,
  GENESIS,
  HEADLESS,
  headOf,
  refuseHeadless,
  retentionCutoff,
  verifyChain,
  entryOfRow,
  type AuditEntry,
  type AuditRow,
  type AuditLog,
  type AuditPage,
  type AuditQuery,
  type ChainHead,
} from './audit';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS audit_log (
  seq         BIGINT NOT NULL,
  at          TIMESTAMPTZ NOT NULL,
  actor_kind  TEXT NOT NULL,
  actor_id    TEXT NOT NULL,
  actor_name  TEXT,
  action      TEXT NOT NULL,
  target_kind TEXT,
  target_id   TEXT,
  outcome     TEXT NOT NULL,
  detail      JSONB NOT NULL,
  ip          TEXT,
  prev_hash   TEXT NOT NULL,
  hash        TEXT NOT NULL,
  mac         TEXT NOT NULL,
  PRIMARY KEY (at, seq)
) PARTITION BY RANGE (at);
CREATE INDEX IF NOT EXISTS audit_log_actor_at ON audit_log (actor_id, at DESC, seq DESC);
CREATE INDEX IF NOT EXISTS audit_log_name_at ON audit_log (actor_name, at DESC, seq DESC);
CREATE INDEX IF NOT EXISTS audit_log_seq ON audit_log (seq);
CREATE TABLE IF NOT EXISTS audit_meta (name TEXT PRIMARY KEY, seq BIGINT NOT NULL, hash TEXT NOT NULL, mac TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS audit_keys (owner TEXT PRIMARY KEY, kek_id TEXT NOT NULL, wrapped BYTEA NOT NULL, created_at TIMESTAMPTZ NOT NULL DEFAULT now());
`;

/** `audit_log`'s columns and their types, for the batch insert through `unnest`. */
const INSERT_TYPES: [string, string][] = [
  ['seq', 'bigint'],
  ['at', 'timestamptz'],
  ['actor_kind', 'text'],
  ['actor_id', 'text'],
  ['actor_name', 'text'],
  ['action', 'text'],
  ['target_kind', 'text'],
  ['target_id', 'text'],
  ['outcome', 'text'],
  ['detail', 'jsonb'],
  ['ip', 'text'],
  ['prev_hash', 'text'],
  ['hash', 'text'],
  ['mac', 'text'],
];
const INSERT_BATCH = `INSERT INTO audit_log (${INSERT_TYPES.map(([c]) => c).join(', ')}) SELECT * FROM unnest(${INSERT_TYPES.map(([, t], i) => `$${i + 1}::${t}[]`).join(', ')})`;

/** The row as pg gives it: `seq` (BIGINT) as a string, `at` as a Date, `detail` (JSONB) parsed. */
type Row = Omit<AuditRow, 'seq' | 'at'> & { seq: string; at: Date };

const entryOf = (r: Row): AuditEntry => entryOfRow({ ...r, seq: Number(r.seq), at: r.at.toISOString() });

/** `audit_log_YYYYMM` and its bounds, for the month of `at` (UTC). */
function monthOf(at: Date): { name: string; from: string; to: string } {
  const y = at.getUTCFullYear();
  const m = at.getUTCMonth();
  const from = new Date(Date.UTC(y, m, 1));
  const to = new Date(Date.UTC(y, m + 1, 1));
  return { name: `audit_log_${y}${String(m + 1).padStart(2, '0')}`, from: from.toISOString(), to: to.toISOString() };
}

/**
 * The scale-out audit log (issue 17) in PostgreSQL (`HUILIU_PG_URL`): `audit_log` is partitioned by
 * month of `at` (`audit_log_YYYYMM`, created when the first entry of a month arrives), so retention
 * drops whole months and a search of one user reads only the months of its range through the
 * `(actor_id, at DESC, seq DESC)` index. Appends from every node serialise on the `head` row
 * (`SELECT … FOR UPDATE`) inside one transaction, so all nodes keep one chain. The MAC key is a data
 * key wrapped by the KeyProvider, kept in `audit_keys` so every node sharing the KEK (the HSM) uses
 * the same one. `schema` isolates deployments (and tests) sharing one database.
 */
export async function createPgAuditLog(options: {
  url: string;
  keys: KeyProvider;
  schema?: string;
  now?: () => Date;
  /** What to do when the log exists but its head is gone (tampering): `refuse` (default, the server) or `open` (verify). */
  onMissingHead?: 'refuse' | 'open';
}): Promise<AuditLog> {
  const schema = options.schema ?? 'huiliu_audit';
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw new Error(`audit schema ${JSON.stringify(schema)}: lower-case letters, digits, _`);
  // The schema is a startup parameter of every connection (libpq `options`), so no query can run
  // before it applies and a failure surfaces as a failed connect, not an unhandled rejection.
  const pool = new pg.Pool({ connectionString: options.url, max: 4, options: `-c search_path=${schema}` });
  const now = options.now ?? (() => new Date());
  {
    const client = await pool.connect();
    try {
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
      // One migrator at a time across nodes.
      await client.query('SELECT pg_advisory_lock(hashtext($1))', [`${schema}.audit`]);
      try {
        await client.query(SCHEMA);
      } finally {
        await client.query('SELECT pg_advisory_unlock(hashtext($1))', [`${schema}.audit`]);
      }
    } finally {
      client.release();
    }
  }
  let existed = true;
  const key = await (async () => {
    const read = async () =>
      (await pool.query<{ kek_id: string; wrapped: Buffer }>("SELECT kek_id, wrapped FROM audit_keys WHERE owner = 'audit:mac'")).rows[0];
    let row = await read();
    if (!row) {
      existed = false;
      const { wrapped } = await options.keys.generateDataKey();
      await pool.query("INSERT INTO audit_keys (owner, kek_id, wrapped) VALUES ('audit:mac', $1, $2) ON CONFLICT (owner) DO NOTHING", [
        wrapped.kekId,
        wrapped.wrapped,
      ]);
      row = (await read())!;
    }
    return options.keys.unwrapDataKey({ kekId: row.kek_id, wrapped: row.wrapped });
  })();
  const partitions = new Set<string>();
  // The head exists from the log's creation (seq 0, MACed): a wiped log (entries and head deleted) is
  // caught. Written only for a new log (no MAC key, no entry, no anchor before this start): a head
  // missing from an existing log is tampering, and re-creating it would hide that.
  const hasHead = (await pool.query("SELECT 1 FROM audit_meta WHERE name = 'head'")).rowCount === 1;
  if (!hasHead) {
    const fresh =
      !existed &&
      (await pool.query('SELECT 1 FROM audit_log LIMIT 1')).rowCount === 0 &&
      (await pool.query("SELECT 1 FROM audit_meta WHERE name = 'anchor'")).rowCount === 0;
    if (fresh) {
      const genesisHead = headOf(key, 0, GENESIS);
      await pool.query("INSERT INTO audit_meta (name, seq, hash, mac) VALUES ('head', $1, $2, $3) ON CONFLICT (name) DO NOTHING", [
        genesisHead.seq,
        genesisHead.hash,
        genesisHead.mac,
      ]);
    } else refuseHeadless(options.onMissingHead);
  }

  async function ensurePartition(client: pg.PoolClient, at: Date): Promise<void> {
    const m = monthOf(at);
    if (partitions.has(m.name)) return;
    await client.query(`CREATE TABLE IF NOT EXISTS ${m.name} PARTITION OF audit_log FOR VALUES FROM ('${m.from}') TO ('${m.to}')`);
    partitions.add(m.name);
  }

  const meta = async (client: pg.PoolClient | pg.Pool, name: string, lock = false) =>
    (
      await client.query<{ seq: string; hash: string; mac: string }>(
        `SELECT seq, hash, mac FROM audit_meta WHERE name = $1${lock ? ' FOR UPDATE' : ''}`,
        [name],
      )
    ).rows[0];

  const wrappedKeys: WrappedKeyHolder = {
    name: `${schema}.audit_keys`,
    async census() {
      const { rows } = await pool.query<{ kek: string; n: string }>('SELECT kek_id AS kek, COUNT(*) AS n FROM audit_keys GROUP BY kek_id');
      return new Map(rows.map((r) => [r.kek, Number(r.n)]));
    },
    async stale(currentKek, after, limit) {
      const { rows } = await pool.query<StaleWrappedKey>(
        'SELECT owner AS id, kek_id AS "kekId", wrapped FROM audit_keys WHERE kek_id <> $1 AND owner > $2 ORDER BY owner LIMIT $3',
        [currentKek, after, limit],
      );
      return rows;
    },
    async replace(updates) {
      let written = 0;
      for (const u of updates) {
        const r = await pool.query('UPDATE audit_keys SET kek_id = $1, wrapped = $2 WHERE owner = $3 AND kek_id = $4', [
          u.next.kekId,
          u.next.wrapped,
          u.id,
          u.kekId,
        ]);
        written += r.rowCount ?? 0;
      }
      return written;
    },
  };
  return {
    wrappedKeys,
    async append(inputs) {
      if (inputs.length === 0) return [];
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        // The head row (written at the log's creation) is the chain's lock; without it nothing is appended.
        const head = await meta(client, 'head', true);
        if (!head) throw new HuiliuError('INTERNAL', HEADLESS);
        const anchor = await meta(client, 'anchor');
        const lastHash = Number(head.seq) > 0 ? head.hash : (anchor?.hash ?? GENESIS);
        const entries = chain(inputs, Number(head.seq), lastHash, key, now);
        for (const month of new Set(entries.map((e) => e.at.slice(0, 7))))
          await ensurePartition(client, new Date(`${month}-01T00:00:00.000Z`));
        // One statement per batch (arrays unnested server-side): a round trip per entry would cap the
        // log at a few thousand entries/s (docs/benchmarks.md, audit).
        const columns: unknown[][] = INSERT_TYPES.map(() => []);
        for (const e of entries) auditRowValues(e).forEach((v, i) => columns[i]!.push(v));
        await client.query(INSERT_BATCH, columns);
        const last = entries.at(-1)!;
        const h = headOf(key, last.seq, last.hash);
        await client.query("UPDATE audit_meta SET seq = $1, hash = $2, mac = $3 WHERE name = 'head'", [h.seq, h.hash, h.mac]);
        await client.query('COMMIT');
        return entries;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => {});
        // A partition another node created meanwhile is not one we know of yet: forget and retry once.
        partitions.clear();
        throw error;
      } finally {
        client.release();
      }
    },

    async search(q: AuditQuery): Promise<AuditPage> {
      const cursor = q.cursor ? decodeCursor(q.cursor) : null;
      const params: unknown[] = [q.from, q.to, q.limit + 1];
      const where = ['at >= $1', 'at < $2'];
      if (cursor) {
        params.push(cursor.at, cursor.seq);
        where.push(`(at, seq) < ($4::timestamptz, $5)`);
      }
      const page = (extra: string) =>
        `SELECT * FROM audit_log WHERE ${[...where, extra].join(' AND ')} ORDER BY at DESC, seq DESC LIMIT $3`;
      let sql = page('TRUE');
      if (q.userId !== undefined) {
        params.push(q.userId);
        const u = `$${params.length}`;
        // One user by id or by username: two index range scans, each already in order, merged. (With an OR
        // PostgreSQL may gather every entry of the range and sort them.)
        sql = `(${page(`actor_id = ${u}`)}) UNION ALL (${page(`actor_name = ${u} AND actor_id <> ${u}`)}) ORDER BY at DESC, seq DESC LIMIT $3`;
      }
      const rows = (await pool.query<Row>(sql, params)).rows;
      const entries = rows.slice(0, q.limit).map(entryOf);
      return rows.length > q.limit ? { entries, next: encodeCursor(entries.at(-1)!) } : { entries };
    },

    async verify() {
      const anchor = await meta(pool, 'anchor');
      if (anchor && anchor.mac !== anchorMac(key, anchor.hash))
        return { ok: false, checked: 0, firstBreak: { kind: 'altered', seq: Number(anchor.seq) } };
      const head = await meta(pool, 'head');
      return verifyChain(
        async (after, limit) =>
          (await pool.query<Row>('SELECT * FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2', [after, limit])).rows.map(entryOf),
        key,
        {
          anchor: anchor?.hash ?? GENESIS,
          anchorSeq: anchor ? Number(anchor.seq) : 0,
          head: head ? ({ seq: Number(head.seq), hash: head.hash, mac: head.mac } satisfies ChainHead) : null,
        },
      );
    },

    async prune(before) {
      const cutoff = retentionCutoff(before, now());
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        await client.query("SELECT 1 FROM audit_meta WHERE name = 'head' FOR UPDATE");
        const last = (
          await client.query<{ seq: string; hash: string }>('SELECT seq, hash FROM audit_log WHERE at < $1 ORDER BY seq DESC LIMIT 1', [
            cutoff,
          ])
        ).rows[0];
        if (!last) {
          await client.query('COMMIT');
          return 0;
        }
        const removed = (await client.query('DELETE FROM audit_log WHERE seq <= $1', [last.seq])).rowCount ?? 0;
        await client.query(
          'INSERT INTO audit_meta (name, seq, hash, mac) VALUES ($1, $2, $3, $4) ON CONFLICT (name) DO UPDATE SET seq = excluded.seq, hash = excluded.hash, mac = excluded.mac',
          ['anchor', last.seq, last.hash, anchorMac(key, last.hash)],
        );
        // Months wholly before the cut-off are empty now: drop their partitions.
        const months = (
          await client.query<{ name: string }>(
            `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
           JOIN pg_namespace n ON n.oid = p.relnamespace WHERE p.relname = 'audit_log' AND n.nspname = $1`,
            [schema],
          )
        ).rows.map((r) => r.name);
        const cutMonth = monthOf(cutoff).name;
        for (const m of months) if (m < cutMonth) await client.query(`DROP TABLE IF EXISTS ${m}`);
        await client.query('COMMIT');
        for (const m of months) if (m < cutMonth) partitions.delete(m);
        return removed;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => {});
        throw error;
      } finally {
        client.release();
      }
    },

    async close() {
      await pool.end();
    },
  };
}
