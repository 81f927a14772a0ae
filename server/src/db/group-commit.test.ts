import { describe, expect, it } from 'vitest';
import { GroupCommit } from './group-commit';
import { openDatabase } from './sqlite';

describe('group commit', () => {
  it('runs writes of one turn in one transaction and answers after the commit', async () => {
    const db = openDatabase(':memory:');
    db.exec('CREATE TABLE t (k TEXT PRIMARY KEY)');
    let commits = 0;
    const gc = new GroupCommit(db, 256, { afterCommit: () => commits++ });
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => gc.run(() => db.prepare('INSERT INTO t VALUES (?)').run(`k${i}`).changes)),
    );
    expect(results).toEqual(new Array(20).fill(1));
    expect(commits).toBe(1);
    expect(db.prepare('SELECT count(*) AS n FROM t').get()).toEqual({ n: 20 });
  });

  it('rolls back only the write that failed', async () => {
    const db = openDatabase(':memory:');
    db.exec('CREATE TABLE t (k TEXT PRIMARY KEY)');
    const gc = new GroupCommit(db);
    const insert = (k: string) => () => {
      db.prepare('INSERT INTO t VALUES (?)').run(`${k}-side-effect`);
      return db.prepare('INSERT INTO t VALUES (?)').run(k).changes;
    };
    const outcomes = await Promise.allSettled([gc.run(insert('a')), gc.run(insert('a')), gc.run(insert('b'))]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    const keys = (db.prepare('SELECT k FROM t ORDER BY k').all() as { k: string }[]).map((r) => r.k);
    // The failed write's own side effect is gone with its savepoint.
    expect(keys).toEqual(['a', 'a-side-effect', 'b', 'b-side-effect']);
  });

  it('sees earlier writes of the same group (idempotency checks stay correct)', async () => {
    const db = openDatabase(':memory:');
    db.exec('CREATE TABLE t (k TEXT PRIMARY KEY)');
    const gc = new GroupCommit(db);
    const upsert = () => {
      const hit = db.prepare("SELECT 1 FROM t WHERE k = 'x'").get();
      if (hit) return 'duplicate';
      db.prepare("INSERT INTO t VALUES ('x')").run();
      return 'stored';
    };
    expect(await Promise.all([gc.run(upsert), gc.run(upsert)])).toEqual(['stored', 'duplicate']);
  });
});
