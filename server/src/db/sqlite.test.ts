import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { migrate, openDatabase, type Db } from './sqlite';
import { migrationsDir } from '../runtime/paths';

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

describe('the sessions rebuild migration (0005, issue 10)', () => {
  it("keeps every session, message and decision of an older database and then accepts status 'bot'", () => {
    const dir = mkdtempSync(join(tmpdir(), 'huiliu-mig-'));
    const old = join(dir, 'old');
    mkdirSync(old);
    const all = migrationsDir('sessions');
    for (const f of readdirSync(all).filter((f) => /^000[1-4]_/.test(f))) copyFileSync(join(all, f), join(old, f));
    const db = openDatabase(':memory:');
    migrate(db, 'sessions', old);
    const t = '2026-01-01T00:00:00.000Z';
    db.prepare(`INSERT INTO customers (id, name_ct, created_at) VALUES ('c1', x'00', ?)`).run(t);
    db.prepare(
      `INSERT INTO conversations (id, customer_id, status, last_seq, created_at, updated_at) VALUES ('v1', 'c1', 'open', 1, ?, ?)`,
    ).run(t, t);
    db.prepare(
      `INSERT INTO sessions (id, conversation_id, customer_id, channel, status, skill_group, routing_json, created_at, updated_at, waiting_since, last_message_at)
       VALUES ('WB169208100012348213', 'v1', 'c1', 'WB', 'offered', 'general', '{"tier":"ai"}', ?, ?, ?, ?)`,
    ).run(t, t, t, t);
    const sid = (db.prepare('SELECT id FROM sessions').get() as { id: string }).id;
    db.prepare(
      `INSERT INTO messages (id, conversation_id, session_id, customer_id, seq, channel, direction, kind, payload_ct, content_hmac, client_message_id, critical, sent_at, received_at)
       VALUES ('m1', 'v1', ?, 'c1', 1, 'WB', 'in', 'text', x'00', 'h', 'cm1', 1, ?, ?)`,
    ).run(sid, t, t);
    db.prepare(`INSERT INTO routing_decisions (session_id, at, config_version, cause, decision_json) VALUES (?, ?, 1, 'new', '{}')`).run(
      sid,
      t,
    );

    // 0005 first, then whatever later migrations there are (0006: transfers, issue 11).
    expect(migrate(db, 'sessions', all)[0]).toBe(5);
    expect(db.prepare('SELECT status, routing_json, handover_json FROM sessions').get()).toEqual({
      status: 'offered',
      routing_json: '{"tier":"ai"}',
      handover_json: null,
    });
    expect(db.prepare('SELECT count(*) AS n FROM messages WHERE session_id = ?').get(sid)).toEqual({ n: 1 });
    expect(db.pragma('foreign_key_check')).toEqual([]);
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    db.prepare(`UPDATE sessions SET status = 'bot'`).run();
    expect(() => db.prepare(`UPDATE sessions SET status = 'robot'`).run()).toThrow(/CHECK/);
    // (sessions_conversation is migration 0008's, issue 12.)
    // The indexes the hot path relies on came back with the table.
    const indexes = (
      db.prepare(`SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'sessions' AND sql IS NOT NULL`).all() as {
        name: string;
      }[]
    ).map((r) => r.name);
    expect(indexes.sort()).toEqual([
      'sessions_agent',
      'sessions_conversation',
      'sessions_customer_channel',
      'sessions_offered',
      'sessions_status_group',
    ]);
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });
});
