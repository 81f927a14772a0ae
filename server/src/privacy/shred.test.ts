import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { migrate, openDatabase } from '../db/sqlite';
import { createLocalKeyProvider } from '../keys/provider.local';
import { migrationsDir } from '../runtime/paths';
import { DataKeyRing } from '../sessions/data-keys';

describe('crypto-shredding a data key (issue 17)', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  function setUp() {
    const dir = mkdtempSync(join(tmpdir(), 'huiliu-shred-'));
    const path = join(dir, 'huiliu.db');
    const db = openDatabase(path);
    migrate(db, 'sessions', migrationsDir('sessions'));
    cleanups.push(() => {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    });
    // Two providers over one key file with their own shared state: two server processes on one database.
    const here = createLocalKeyProvider(join(dir, 'keys'));
    const there = createLocalKeyProvider(join(dir, 'keys'));
    cleanups.push(
      () => here.close(),
      () => there.close(),
    );
    return { db, path, here, there };
  }

  it('drops a destroyed key from every ring sharing the shred epoch, and keeps the others', async () => {
    const { db, path, here } = setUp();
    const writerRing = new DataKeyRing(db, here);
    const readerDb = openDatabase(path);
    cleanups.push(() => void readerDb.close());
    // Another ring on its own connection, same provider state (another thread of this process).
    const readerRing = new DataKeyRing(readerDb, here);
    const gone = await writerRing.getOrCreate('customer:a');
    await writerRing.getOrCreate('customer:b');
    expect((await readerRing.get('customer:a'))?.equals(gone)).toBe(true);
    expect(await readerRing.get('customer:b')).not.toBeNull();

    expect(DataKeyRing.destroy(db, ['customer:a'])).toBe(1);
    // Before the announcement the cache still holds it: the epoch is what makes rings look again.
    expect(readerRing.cached('customer:a').equals(gone)).toBe(true);
    DataKeyRing.announceShred(here);
    expect(await readerRing.get('customer:a')).toBeNull();
    expect(await writerRing.get('customer:a')).toBeNull();
    expect(() => readerRing.cached('customer:a')).toThrow();
    expect(await readerRing.get('customer:b')).not.toBeNull();
  });

  it('reaches a ring of another process only when that process announces it (the customer.erased event)', async () => {
    const { db, here, there } = setUp();
    const ringHere = new DataKeyRing(db, here);
    const ringThere = new DataKeyRing(db, there);
    await ringHere.getOrCreate('customer:c');
    expect(await ringThere.get('customer:c')).not.toBeNull();
    DataKeyRing.destroy(db, ['customer:c']);
    DataKeyRing.announceShred(here);
    expect(await ringHere.get('customer:c')).toBeNull();
    expect(await ringThere.get('customer:c')).not.toBeNull();
    DataKeyRing.announceShred(there);
    expect(await ringThere.get('customer:c')).toBeNull();
  });
});
