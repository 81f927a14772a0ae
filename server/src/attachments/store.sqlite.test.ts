import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { createLocalKeyProvider } from '../keys/provider.local';
import { createSqliteSessionStore } from '../sessions/store.sqlite';
import { attachmentStoreContract, imageMessage } from './store.contract';
import { createSqliteAttachmentStore } from './store.sqlite';

async function harness() {
  const dir = mkdtempSync(join(tmpdir(), 'huiliu-attachments-'));
  const path = join(dir, 'huiliu.db');
  const keys = createLocalKeyProvider(join(dir, 'keys'));
  // The session store first: it owns the data_keys table and the customers' keys.
  const sessions = await createSqliteSessionStore({ path, keys, writer: 'inline' });
  const store = await createSqliteAttachmentStore({ path, keys });
  return {
    dir,
    path,
    store,
    sessions,
    files: () => [path, `${path}-wal`].filter((f) => existsSync(f)),
    async cleanup() {
      await store.close();
      await sessions.shutdown();
      await keys.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

attachmentStoreContract('sqlite', harness);

describe('sqlite attachment store', () => {
  it('detects bytes altered at rest, and bytes moved to another row', async () => {
    const h = await harness();
    try {
      const a = await imageMessage(h.sessions);
      const b = await imageMessage(h.sessions);
      await h.store.put(a);
      await h.store.put(b);
      const db = new Database(h.path);
      const row = db.prepare('SELECT bytes_ct FROM attachments WHERE id = ?').get(a.id) as { bytes_ct: Buffer };
      const flipped = Buffer.from(row.bytes_ct);
      flipped[flipped.length - 1]! ^= 1;
      db.prepare('UPDATE attachments SET bytes_ct = ? WHERE id = ?').run(flipped, a.id);
      await expect(h.store.bytes(a.id)).rejects.toMatchObject({ name: 'TamperError' });
      // A's original ciphertext in B's row: the AAD binds it to A's id.
      db.prepare('UPDATE attachments SET bytes_ct = ?, customer_id = ? WHERE id = ?').run(row.bytes_ct, a.customerId, b.id);
      await expect(h.store.bytes(b.id)).rejects.toMatchObject({ name: 'TamperError' });
      db.close();
    } finally {
      await h.cleanup();
    }
  });

  it('stores no term of the text, only keyed hashes', async () => {
    const h = await harness();
    try {
      const a = await imageMessage(h.sessions);
      await h.store.put(a);
      await h.store.saveOcr(a.id, { status: 'done', text: 'invoice 88990011', lang: 'en', confidence: 90 });
      const db = new Database(h.path, { readonly: true });
      const terms = db.prepare('SELECT term_hmac FROM attachment_terms WHERE attachment_id = ?').all(a.id) as { term_hmac: string }[];
      db.close();
      expect(terms).toHaveLength(2);
      for (const t of terms) expect(t.term_hmac).toMatch(/^[0-9a-f]{64}$/);
    } finally {
      await h.cleanup();
    }
  });
});
