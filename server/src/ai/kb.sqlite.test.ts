import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { KnowledgeBase } from './kb';
import { kbRow, kbRows, knowledgeBaseContract } from './kb.contract';
import { createSqliteKnowledgeBase } from './kb.sqlite';

knowledgeBaseContract('sqlite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'huiliu-kb-'));
  let clock = Date.parse('2025-03-01T08:00:00Z');
  const kb = createSqliteKnowledgeBase({ path: join(dir, 'huiliu.db'), now: () => clock });
  return {
    kb,
    advance: (ms) => void (clock += ms),
    cleanup: async () => {
      await kb.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

describe('sqlite knowledge base', () => {
  let dir: string;
  let path: string;
  const open: KnowledgeBase[] = [];
  const kb = () => {
    const k = createSqliteKnowledgeBase({ path });
    open.push(k);
    return k;
  };
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'huiliu-kb-'));
    path = join(dir, 'huiliu.db');
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((k) => k.close()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps entries and the version across a restart, and numbers on from there', async () => {
    const first = kb();
    await first.import(kbRows(10), { mode: 'merge', by: 'admin-1' });
    const entry = await first.create(kbRow('refund'), 'admin-1');
    await first.close();
    open.splice(0);
    const again = kb();
    expect(await again.version()).toBe(2);
    expect(await again.get(entry.id)).toEqual(entry);
    expect((await again.create(kbRow('returns'), 'admin-1')).version).toBe(3);
  });

  it('rolls back an import that fails half-way in the database: no row, no version', async () => {
    const k = kb();
    await k.create(kbRow('before'), 'admin-1');
    const raw = new Database(path);
    try {
      raw.exec(`CREATE TRIGGER refuse_boom BEFORE INSERT ON kb_entries WHEN NEW.intent = 'faq_0250'
        BEGIN SELECT RAISE(ABORT, 'disk on fire'); END`);
    } finally {
      raw.close();
    }
    await expect(k.import(kbRows(500), { mode: 'replace', by: 'admin-1' })).rejects.toThrow(/disk on fire/);
    expect((await k.list()).map((e) => e.intent)).toEqual(['before']);
    expect(await k.version()).toBe(1);
    expect(await k.history()).toHaveLength(1);
  });

  it('never rewrites or deletes a version, even through a raw connection', async () => {
    await kb().create(kbRow('refund'), 'admin-1');
    const raw = new Database(path);
    try {
      expect(() => raw.prepare("UPDATE kb_versions SET changed_by = 'x'").run()).toThrow(/append-only/);
      expect(() => raw.prepare('DELETE FROM kb_versions').run()).toThrow(/append-only/);
      expect(raw.prepare("SELECT count(*) AS n FROM schema_migrations WHERE component = 'ai'").get()).toEqual({ n: 1 });
    } finally {
      raw.close();
    }
  });

  it('stores the lists as JSON text in the clear', async () => {
    await kb().create(kbRow('refund', { questions: ['退款多久到账？', 'refund time'], tags: ['money'], related: ['returns'] }), 'admin-1');
    const raw = new Database(path, { readonly: true });
    try {
      expect(raw.prepare('SELECT questions_json, tags_json, related_json, skill_group FROM kb_entries').get()).toEqual({
        questions_json: '["退款多久到账？","refund time"]',
        tags_json: '["money"]',
        related_json: '["returns"]',
        skill_group: null,
      });
    } finally {
      raw.close();
    }
  });

  it('numbers the versions of two connections to one file without a gap or a repeat', async () => {
    const a = kb();
    const b = kb();
    await a.create(kbRow('one'), 'admin-1');
    await b.import(kbRows(3), { mode: 'merge', by: 'admin-2' });
    await a.create(kbRow('two'), 'admin-1');
    expect(await b.version()).toBe(3);
    expect((await a.history()).map((v) => v.version)).toEqual([3, 2, 1]);
    expect(await b.list()).toHaveLength(5);
  });
});
