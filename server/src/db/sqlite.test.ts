import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { migrate, openDatabase, type Db } from './sqlite';

describe('numbered, forward-only migrations', () => {
  let dir: string;
  let db: Db;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'huiliu-mig-'));
    db = openDatabase(join(dir, 'x.db'));
  });
  afterEach(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('applies pending files in order, once, and records them per component', () => {
    writeFileSync(join(dir, '0002_more.sql'), 'ALTER TABLE t ADD COLUMN b TEXT;');
    writeFileSync(join(dir, '0001_init.sql'), 'CREATE TABLE t (a TEXT);');
    writeFileSync(join(dir, 'notes.txt'), 'ignored');
    expect(migrate(db, 'demo', dir)).toEqual([1, 2]);
    expect(migrate(db, 'demo', dir)).toEqual([]);
    writeFileSync(join(dir, '0003_index.sql'), 'CREATE INDEX t_a ON t(a);');
    expect(migrate(db, 'demo', dir)).toEqual([3]);
    const rows = db.prepare("SELECT version, name FROM schema_migrations WHERE component = 'demo' ORDER BY version").all();
    expect(rows).toEqual([
      { version: 1, name: '0001_init.sql' },
      { version: 2, name: '0002_more.sql' },
      { version: 3, name: '0003_index.sql' },
    ]);
  });

  it('rolls back a failing migration completely and does not record it', () => {
    writeFileSync(join(dir, '0001_bad.sql'), 'CREATE TABLE ok (a TEXT); CREATE TABLE broken (;');
    expect(() => migrate(db, 'demo', dir)).toThrow();
    expect(db.prepare("SELECT name FROM sqlite_master WHERE name = 'ok'").get()).toBeUndefined();
    expect(db.prepare('SELECT count(*) AS n FROM schema_migrations').get()).toEqual({ n: 0 });
  });

  it('opens the database in WAL mode with full fsync and foreign keys on', () => {
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('synchronous', { simple: true })).toBe(2);
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
  });
});
