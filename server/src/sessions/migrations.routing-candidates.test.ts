import { cpSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { migrate, openDatabase, type Db } from '../db/sqlite';
import { migrationsDir } from '../runtime/paths';

describe('sessions migration 0011: routing candidates beside the session row (issue 18)', () => {
  const dirs: string[] = [];
  let db: Db | undefined;
  afterEach(() => {
    db?.close();
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it("moves a stored decision's candidates out of routing_json and leaves the rest of the decision as it was", () => {
    const dir = mkdtempSync(join(tmpdir(), 'huiliu-mig-'));
    dirs.push(dir);
    // The schema as it was before 0010 (page blocks) and 0011.
    const before = join(dir, 'before');
    cpSync(migrationsDir('sessions'), before, { recursive: true });
    for (const f of readdirSync(before)) if (!/^000\d_/.test(f)) rmSync(join(before, f));
    db = openDatabase(join(dir, 'h.db'));
    migrate(db, 'sessions', before);
    db.pragma('foreign_keys = OFF');
    const decision = {
      tier: 'expert',
      priority: 81,
      reasons: [{ factor: 'x', note: 'y' }],
      candidates: [{ agentId: 'a', chosen: true, reasons: ['z'] }],
    };
    const insert = db.prepare(
      `INSERT INTO sessions (id, conversation_id, customer_id, channel, status, skill_group, routing_json, created_at, updated_at, waiting_since, last_message_at)
       VALUES (?, 'c', 'u', 'WB', 'queued', 'general', ?, 't', 't', 't', 't')`,
    );
    insert.run('WB100000000000000001', JSON.stringify(decision));
    insert.run('WB100000000000000002', JSON.stringify({ tier: 'ai', priority: 10, reasons: [] }));
    insert.run('WB100000000000000003', null);

    migrate(db, 'sessions', migrationsDir('sessions'));
    const { candidates, ...rest } = decision;
    const routing = (id: string) =>
      (db!.prepare('SELECT routing_json FROM sessions WHERE id = ?').pluck().get(id) as string | null) ?? null;
    expect(JSON.parse(routing('WB100000000000000001')!)).toEqual(rest);
    expect(JSON.parse(routing('WB100000000000000002')!)).toEqual({ tier: 'ai', priority: 10, reasons: [] });
    expect(routing('WB100000000000000003')).toBeNull();
    const kept = db.prepare('SELECT session_id, candidates_json FROM session_routing_candidates ORDER BY session_id').all() as {
      session_id: string;
      candidates_json: string;
    }[];
    expect(kept.map((r) => [r.session_id, JSON.parse(r.candidates_json)])).toEqual([['WB100000000000000001', candidates]]);
  });
});
