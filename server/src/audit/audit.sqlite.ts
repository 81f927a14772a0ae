import { HuiliuError } from '../../../common/errors/codes';
import type { Db } from '../db/sqlite';
import { migrate, openDatabase, SIDE_CONNECTION_CHECKPOINT_PAGES } from '../db/sqlite';
import { WalSync } from '../db/wal-sync';
import type { KeyProvider } from '../keys/provider';
import { migrationsDir } from '../runtime/paths';
import { DataKeyRing } from '../sessions/data-keys';
import {
  anchorMac,
  chain,
  decodeCursor,
  encodeCursor,
  GENESIS,
  HEADLESS,
  headOf,
  refuseHeadless,
  retentionCutoff,
  verifyChain,
  entryOfRow,
  type AuditEntry,
  type AuditRow,
  type AuditEntryInput,
  type AuditLog,
  type AuditPage,
  type AuditQuery,
  type ChainHead,
} from './audit';

const MIGRATIONS = migrationsDir('audit');
/** The `data_keys` owner of the audit MAC key (re-wrapped with every other data key on KEK rotation). */
export const AUDIT_KEY_OWNER = 'audit:mac';

/** The row as SQLite gives it: `detail` is JSON text. */
type Row = Omit<AuditRow, 'detail'> & { detail: string };

const entryOf = (r: Row): AuditEntry => entryOfRow({ ...r, detail: JSON.parse(r.detail) as AuditEntry['detail'] });

/**
 * The embedded audit log (issue 17) in the server's SQLite file (`audit_log`, `audit_meta`). Appends
 * run in one IMMEDIATE transaction that reads the head, chains the entries and moves the head, so
 * several connections (or processes) on the file keep one chain. The MAC key is a data key in the
 * session store's `data_keys` table (open the session store first), wrapped by the KeyProvider.
 * The connection runs `synchronous=NORMAL` and an append resolves after `WalSync` fdatasynced the WAL
 * on libuv's pool: as durable as FULL when it resolves, without the fsync on the server's thread.
 */
export async function createSqliteAuditLog(options: {
  path: string;
  keys: KeyProvider;
  now?: () => Date;
  /** What to do when the log exists but its head is gone (tampering): `refuse` (default, the server) or `open` (verify). */
  onMissingHead?: 'refuse' | 'open';
}): Promise<AuditLog> {
  const db: Db = openDatabase(options.path, { synchronous: 'NORMAL' });
  // Checkpoints left to the session writer's thread (same file) unless the WAL grows far past its threshold.
  db.pragma(`wal_autocheckpoint = ${SIDE_CONNECTION_CHECKPOINT_PAGES}`);
  migrate(db, 'audit', MIGRATIONS);
  const wal = new WalSync(`${options.path}-wal`);
  const ring = new DataKeyRing(db, options.keys);
  // Whether this log existed before: its MAC key does (a fresh log has none yet).
  const existed = (await ring.get(AUDIT_KEY_OWNER)) !== null;
  const key = await ring.getOrCreate(AUDIT_KEY_OWNER);
  const now = options.now ?? (() => new Date());

  const readHead = db.prepare("SELECT seq, hash, mac FROM audit_meta WHERE name = 'head'");
  const readAnchor = db.prepare("SELECT seq, hash, mac FROM audit_meta WHERE name = 'anchor'");
  const insert = db.prepare(
    `INSERT INTO audit_log (seq, at, actor_kind, actor_id, actor_name, action, target_kind, target_id, outcome, detail, ip, prev_hash, hash, mac)
     VALUES (@seq, @at, @actor_kind, @actor_id, @actor_name, @action, @target_kind, @target_id, @outcome, @detail, @ip, @prev_hash, @hash, @mac)`,
  );
  const putMeta = db.prepare(
    'INSERT INTO audit_meta (name, seq, hash, mac) VALUES (?, ?, ?, ?) ON CONFLICT(name) DO UPDATE SET seq = excluded.seq, hash = excluded.hash, mac = excluded.mac',
  );

  // The head exists from the log's creation (seq 0, MACed): a wiped log (entries and head deleted) is
  // caught. It is written only for a log that is new (no MAC key, no entry, no anchor before this
  // open): a head missing from an existing log is tampering, and re-creating it would hide that.
  const hasHead = readHead.get() !== undefined;
  const fresh = !existed && db.prepare('SELECT 1 FROM audit_log LIMIT 1').get() === undefined && readAnchor.get() === undefined;
  if (!hasHead && fresh) {
    const genesisHead = headOf(key, 0, GENESIS);
    putMeta.run('head', genesisHead.seq, genesisHead.hash, genesisHead.mac);
  } else if (!hasHead) refuseHeadless(options.onMissingHead);
  const appendTx = db.transaction((inputs: readonly AuditEntryInput[]) => {
    const head = readHead.get() as ChainHead | undefined;
    if (!head) throw new HuiliuError('INTERNAL', HEADLESS);
    const anchor = readAnchor.get() as ChainHead | undefined;
    const last = head && head.seq > 0 ? head : null;
    const entries = chain(inputs, head?.seq ?? 0, last?.hash ?? anchor?.hash ?? GENESIS, key, now);
    for (const e of entries) {
      insert.run({
        seq: e.seq,
        at: e.at,
        actor_kind: e.actor.kind,
        actor_id: e.actor.id,
        actor_name: e.actor.name ?? null,
        action: e.action,
        target_kind: e.target?.kind ?? null,
        target_id: e.target?.id ?? null,
        outcome: e.outcome,
        detail: JSON.stringify(e.detail),
        ip: e.ip,
        prev_hash: e.prevHash,
        hash: e.hash,
        mac: e.mac,
      });
    }
    const newest = entries.at(-1);
    if (newest) {
      const h = headOf(key, newest.seq, newest.hash);
      putMeta.run('head', h.seq, h.hash, h.mac);
    }
    return entries;
  });

  return {
    async append(inputs) {
      if (inputs.length === 0) return [];
      const entries = appendTx.immediate(inputs);
      await wal.durable();
      return entries;
    },

    async search(q: AuditQuery): Promise<AuditPage> {
      const cursor = q.cursor ? decodeCursor(q.cursor) : null;
      const where = ['at >= @from', 'at < @to'];
      if (cursor) where.push('(at < @cAt OR (at = @cAt AND seq < @cSeq))');
      const page = (extra: string) =>
        `SELECT * FROM audit_log WHERE ${[...where, extra].join(' AND ')} ORDER BY at DESC, seq DESC LIMIT @limit`;
      // One user by id or by username: two index range scans, each in order, merged (an OR would sort
      // every entry of the range).
      const sql =
        q.userId === undefined
          ? page('1')
          : `SELECT * FROM (${page('actor_id = @user')}) UNION ALL SELECT * FROM (${page('actor_name = @user AND actor_id <> @user')}) ORDER BY at DESC, seq DESC LIMIT @limit`;
      const rows = db.prepare(sql).all({
        from: q.from,
        to: q.to,
        user: q.userId ?? null,
        cAt: cursor?.at ?? null,
        cSeq: cursor?.seq ?? null,
        limit: q.limit + 1,
      }) as Row[];
      const entries = rows.slice(0, q.limit).map(entryOf);
      return rows.length > q.limit ? { entries, next: encodeCursor(entries.at(-1)!) } : { entries };
    },

    async verify() {
      const anchor = readAnchor.get() as ChainHead | undefined;
      if (anchor && anchor.mac !== anchorMac(key, anchor.hash))
        return { ok: false, checked: 0, firstBreak: { kind: 'altered', seq: anchor.seq } };
      const page = db.prepare('SELECT * FROM audit_log WHERE seq > ? ORDER BY seq LIMIT ?');
      return verifyChain(async (after, limit) => (page.all(after, limit) as Row[]).map(entryOf), key, {
        anchor: anchor?.hash ?? GENESIS,
        anchorSeq: anchor?.seq ?? 0,
        head: (readHead.get() as ChainHead | undefined) ?? null,
      });
    },

    async prune(before) {
      const cutoff = retentionCutoff(before, now()).toISOString();
      return db
        .transaction(() => {
          const last = db.prepare('SELECT seq, hash FROM audit_log WHERE at < ? ORDER BY seq DESC LIMIT 1').get(cutoff) as
            { seq: number; hash: string } | undefined;
          if (!last) return 0;
          // Entries go oldest first and in seq order: everything up to the newest entry before the cut-off.
          const removed = db.prepare('DELETE FROM audit_log WHERE seq <= ?').run(last.seq).changes;
          putMeta.run('anchor', last.seq, last.hash, anchorMac(key, last.hash));
          return removed;
        })
        .immediate();
    },

    async close() {
      await wal.close();
      db.close();
    },
  };
}
