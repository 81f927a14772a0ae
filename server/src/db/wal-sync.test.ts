import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { GroupCommit } from './group-commit';
import { openDatabase } from './sqlite';
import { WalSync } from './wal-sync';

describe('WalSync with group commit (synchronous=NORMAL, fsync off the thread)', () => {
  let dir: string;
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('answers a batch only after a sync that started after its commit, and one sync covers waiting commits', async () => {
    dir = mkdtempSync(join(tmpdir(), 'huiliu-walsync-'));
    const path = join(dir, 'db.sqlite');
    const db = openDatabase(path, { synchronous: 'NORMAL' });
    db.exec('CREATE TABLE t (k TEXT PRIMARY KEY)');
    const wal = new WalSync(`${path}-wal`);
    const events: string[] = [];
    const durable = () => {
      events.push('sync asked');
      return wal.durable().then(() => void events.push('synced'));
    };
    const gc = new GroupCommit(db, 256, { durable, afterCommit: () => events.push('committed') });
    const insert = (k: string) => gc.run(() => db.prepare('INSERT INTO t VALUES (?)').run(k).changes);
    const first = insert('a').then(() => events.push('answered a'));
    await first;
    expect(events).toEqual(['committed', 'sync asked', 'synced', 'answered a']);
    // Many batches while syncs run: every write answered, each after a sync, none lost.
    const all = await Promise.all(Array.from({ length: 300 }, (_, i) => insert(`k${i}`)));
    expect(all).toEqual(new Array(300).fill(1));
    expect(db.prepare('SELECT count(*) AS n FROM t').get()).toEqual({ n: 301 });
    await wal.close();
    db.close();
  });

  it('rejects every write of a batch whose sync failed (nothing is answered as durable)', async () => {
    dir = mkdtempSync(join(tmpdir(), 'huiliu-walsync-'));
    const db = openDatabase(join(dir, 'db.sqlite'), { synchronous: 'NORMAL' });
    db.exec('CREATE TABLE t (k TEXT PRIMARY KEY)');
    // A WAL path that cannot be opened stands for a failing fdatasync (EIO).
    const wal = new WalSync(join(dir, 'missing', 'db-wal'));
    const gc = new GroupCommit(db, 256, { durable: () => wal.durable() });
    const outcomes = await Promise.allSettled([gc.run(() => 1), gc.run(() => 2)]);
    expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'rejected']);
    expect(String((outcomes[0] as PromiseRejectedResult).reason)).toMatch(/ENOENT/);
    // Fail-stop: once a sync failed, no later commit is answered as durable either.
    await expect(gc.run(() => 3)).rejects.toThrow(/ENOENT/);
    await expect(wal.durable()).rejects.toThrow(/ENOENT/);
    db.close();
  });

  it('an idle writer thread syncs in place: answered at once when nothing else is queued, through the pool when a sync runs', async () => {
    dir = mkdtempSync(join(tmpdir(), 'huiliu-walsync-'));
    const path = join(dir, 'db.sqlite');
    const db = openDatabase(path, { synchronous: 'NORMAL' });
    db.exec('CREATE TABLE t (k TEXT PRIMARY KEY)');
    const wal = new WalSync(`${path}-wal`);
    const used: string[] = [];
    const gc = new GroupCommit(db, 2, {
      durable: () => (used.push('pool'), wal.durable()),
      durableNow: () => {
        const now = wal.syncNowIfIdle();
        used.push(now ? 'here' : 'busy');
        return now;
      },
    });
    const insert = (k: string) => gc.run(() => db.prepare('INSERT INTO t VALUES (?)').run(k).changes);
    expect(await insert('a')).toBe(1);
    expect(used).toEqual(['here']);
    // Five writes, batches of two: a batch that leaves writes queued syncs on the pool, so the next
    // batch runs meanwhile; only the last one may sync in place (unless the pool sync still runs).
    used.length = 0;
    expect(await Promise.all(['b', 'c', 'd', 'e', 'f'].map(insert))).toEqual([1, 1, 1, 1, 1]);
    expect(used.slice(0, 2)).toEqual(['pool', 'pool']);
    expect([['here'], ['busy', 'pool']]).toContainEqual(used.slice(2));
    // While a sync is in flight nothing syncs in place: the waiters of the running one are not covered.
    const running = wal.durable();
    expect(wal.syncNowIfIdle()).toBe(false);
    await running;
    expect(wal.syncNowIfIdle()).toBe(true);
    expect(db.prepare('SELECT count(*) AS n FROM t').get()).toEqual({ n: 6 });
    await wal.close();
    db.close();
  });

  it('a failed in-place sync is fail-stop like a failed pool sync', async () => {
    dir = mkdtempSync(join(tmpdir(), 'huiliu-walsync-'));
    const db = openDatabase(join(dir, 'db.sqlite'), { synchronous: 'NORMAL' });
    db.exec('CREATE TABLE t (k TEXT PRIMARY KEY)');
    const wal = new WalSync(join(dir, 'missing', 'db-wal'));
    const gc = new GroupCommit(db, 256, { durable: () => wal.durable(), durableNow: () => wal.syncNowIfIdle() });
    await expect(gc.run(() => 1)).rejects.toThrow(/ENOENT/);
    expect(wal.syncNowIfIdle()).toBe(false);
    await expect(gc.run(() => 2)).rejects.toThrow(/ENOENT/);
    db.close();
  });

  it('opens the writer connection with synchronous=NORMAL and every other one with FULL', () => {
    dir = mkdtempSync(join(tmpdir(), 'huiliu-walsync-'));
    const normal = openDatabase(join(dir, 'db.sqlite'), { synchronous: 'NORMAL' });
    const full = openDatabase(join(dir, 'db.sqlite'));
    expect(normal.pragma('synchronous', { simple: true })).toBe(1);
    expect(full.pragma('synchronous', { simple: true })).toBe(2);
    normal.close();
    full.close();
  });
});
