import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';

export type Db = Database.Database;

/**
 * Opens the embedded database. WAL for concurrent readers; synchronous=FULL by default so a committed
 * write survives power loss, because the server acks senders right after commit (DESIGN §7).
 * `synchronous: 'NORMAL'` is only for a connection whose commits are made durable by `WalSync`
 * before anyone is answered (the session writer).
 */
export function openDatabase(path: string, options: { synchronous?: 'FULL' | 'NORMAL' } = {}): Db {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${options.synchronous ?? 'FULL'}`);
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  return db;
}

/**
 * `wal_autocheckpoint` (pages) for a connection that writes on the server's event loop beside the
 * session writer's connection to the same file (the KPI and audit logs): 10× SQLite's default of 1,000,
 * so the writer's thread normally runs the checkpoints (a checkpoint copies the WAL into the database
 * and fsyncs twice, ~10–30 ms on a busy disk) and the event loop only does when nothing else wrote
 * for a long while (the WAL then stays under ≈ 40 MB). Issue 18, docs/benchmarks.md.
 */
export const SIDE_CONNECTION_CHECKPOINT_PAGES = 10_000;

const MIGRATION_FILE = /^(\d{4})_[a-z0-9_]+\.sql$/;
/**
 * A migration whose first line is this rebuilds a table that others reference (SQLite cannot alter a
 * CHECK constraint in place): it runs with foreign keys off, as SQLite's "other kinds of table schema
 * changes" procedure asks (https://www.sqlite.org/lang_altertable.html#otheralter, steps 1–12), and
 * `PRAGMA foreign_key_check` must find nothing before it commits.
 */
const REBUILDS_TABLES = '-- migration: rebuilds tables';

/**
 * Applies the numbered, forward-only migrations in `dir` that `component` has not applied yet,
 * each in its own transaction. Each capability owns its folder (sessions/migrations, auth/migrations).
 */
export function migrate(db: Db, component: string, dir: string): number[] {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    component TEXT NOT NULL, version INTEGER NOT NULL, name TEXT NOT NULL, applied_at TEXT NOT NULL,
    PRIMARY KEY (component, version))`);
  const applied = new Set(
    db
      .prepare('SELECT version FROM schema_migrations WHERE component = ?')
      .all(component)
      .map((r) => (r as { version: number }).version),
  );
  const files = readdirSync(dir)
    .filter((f) => MIGRATION_FILE.test(f))
    .sort();
  const ran: number[] = [];
  for (const file of files) {
    const version = Number(MIGRATION_FILE.exec(file)![1]);
    if (applied.has(version)) continue;
    const sql = readFileSync(join(dir, file), 'utf8');
    const rebuilds = sql.startsWith(REBUILDS_TABLES);
    // Outside the transaction: the pragma is a no-op inside one.
    if (rebuilds) db.pragma('foreign_keys = OFF');
    try {
      db.transaction(() => {
        db.exec(sql);
        if (rebuilds) {
          const broken = db.pragma('foreign_key_check') as unknown[];
          if (broken.length) throw new Error(`migration ${file} breaks ${broken.length} foreign key(s)`);
        }
        db.prepare('INSERT INTO schema_migrations (component, version, name, applied_at) VALUES (?, ?, ?, ?)').run(
          component,
          version,
          file,
          new Date().toISOString(),
        );
      })();
    } finally {
      if (rebuilds) db.pragma('foreign_keys = ON');
    }
    ran.push(version);
  }
  return ran;
}
