import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { sealText } from '../crypto/aead';
import { createLocalKeyProvider } from '../keys/provider.local';
import { createSqliteConversationStore } from './conversations.sqlite';
import { DataKeyRing } from './data-keys';
import { customerKeyOwner, messageAad } from './sqlite-rows';
import { draft } from './store.contract';
import { createSqliteSessionStore } from './store.sqlite';

/**
 * Record format 2 (docs/store.md "Message records"): a message's sealed payload is bound to its whole
 * header — session, customer, channel, direction, kind, critical, client message id, author, times — so a
 * header changed in the database is refused like a flipped ciphertext byte; messages of format 1 (AAD:
 * the id only) still read.
 */
describe('message record format 2 (SQLite)', () => {
  async function harness(writer: 'inline' | 'worker') {
    const dir = mkdtempSync(join(tmpdir(), 'huiliu-format-'));
    const keys = createLocalKeyProvider(join(dir, 'keys'));
    const path = join(dir, 'huiliu.db');
    const store = await createSqliteSessionStore({ path, keys, writer });
    const db = new Database(path);
    return {
      store,
      keys,
      db,
      path,
      async cleanup() {
        db.close();
        await store.shutdown();
        await keys.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }

  // Each column a reader takes from outside the ciphertext, and a value another row could have there.
  const changes: [column: string, value: string | number | null][] = [
    ['direction', 'out'],
    ['author_id', 'agent:a1'],
    ['author_kind', 'agent'],
    ['sent_at', '2020-01-01T00:00:00.000Z'],
    ['received_at', '2020-01-01T00:00:00.000Z'],
    ['critical', 0],
    ['client_message_id', 'another'],
    ['kind', 'image'],
    ['channel', 'AP'],
  ];

  for (const writer of ['inline', 'worker'] as const) {
    it(`stores new messages in format 2 and refuses each changed header column (${writer} writer)`, async () => {
      const h = await harness(writer);
      try {
        const { envelope } = await h.store.appendInbound(draft({ text: 'refund 10 yuan' }), { skillGroup: 'general' });
        const row = h.db.prepare('SELECT * FROM messages WHERE id = ?').get(envelope.id) as Record<string, unknown> & {
          payload_ct: Buffer;
        };
        expect(row.payload_ct[0]).toBe(2);
        // Read once: the opened payload is now cached, so each refusal below also shows the cache checks the header.
        expect((await h.store.listMessages(envelope.conversationId)).map((m) => m.body)).toEqual([{ text: 'refund 10 yuan' }]);
        for (const [column, value] of changes) {
          h.db.prepare(`UPDATE messages SET ${column} = ? WHERE id = ?`).run(value, envelope.id);
          await expect(h.store.listMessages(envelope.conversationId), column).rejects.toMatchObject({ name: 'TamperError' });
          h.db.prepare(`UPDATE messages SET ${column} = ? WHERE id = ?`).run(row[column] as string | number | null, envelope.id);
        }
        // The format byte itself: 2 → 1 makes the reader form the id-only AAD, which GCM refuses.
        const downgraded = Buffer.from(row.payload_ct);
        downgraded[0] = 1;
        h.db.prepare('UPDATE messages SET payload_ct = ? WHERE id = ?').run(downgraded, envelope.id);
        await expect(h.store.listMessages(envelope.conversationId)).rejects.toMatchObject({ name: 'TamperError' });
        h.db.prepare('UPDATE messages SET payload_ct = ? WHERE id = ?').run(row.payload_ct, envelope.id);
        expect((await h.store.listMessages(envelope.conversationId)).map((m) => m.body)).toEqual([{ text: 'refund 10 yuan' }]);
      } finally {
        await h.cleanup();
      }
    }, 30_000);
  }

  it('still reads a message stored in format 1 (sealed with its id only), in the wide store and the conversations port', async () => {
    const h = await harness('inline');
    try {
      const { envelope } = await h.store.appendInbound(draft({ text: 'before the upgrade' }), { skillGroup: 'general' });
      // Re-seal the payload as format 1 did: the same data key, AAD `msg:<id>`, version byte 1.
      const ring = new DataKeyRing(h.db, h.keys);
      const key = (await ring.get(customerKeyOwner(envelope.customerId)))!;
      const legacy = sealText(
        key,
        JSON.stringify({ body: { text: 'before the upgrade' }, meta: envelope.meta ?? {} }),
        messageAad(envelope.id),
      );
      expect(legacy[0]).toBe(1);
      h.db.prepare('UPDATE messages SET payload_ct = ? WHERE id = ?').run(legacy, envelope.id);
      expect((await h.store.listMessages(envelope.conversationId)).map((m) => m.body)).toEqual([{ text: 'before the upgrade' }]);
      const port = await createSqliteConversationStore({ path: h.path, keys: h.keys });
      try {
        expect((await port.listMessages(envelope.conversationId)).map((m) => m.body)).toEqual([{ text: 'before the upgrade' }]);
        // A port append beside it is format 2, and both read back in order.
        await port.append({
          sessionId: envelope.sessionId,
          direction: 'out',
          content: { kind: 'text', body: { text: 'after it' } },
          clientMessageId: 'a-1',
          critical: true,
          authorId: 'agent:a1',
        });
        const rows = h.db
          .prepare('SELECT payload_ct FROM messages WHERE conversation_id = ? ORDER BY seq')
          .all(envelope.conversationId) as {
          payload_ct: Buffer;
        }[];
        expect(rows.map((r) => r.payload_ct[0])).toEqual([1, 2]);
        expect((await h.store.listMessages(envelope.conversationId)).map((m) => m.body)).toEqual([
          { text: 'before the upgrade' },
          { text: 'after it' },
        ]);
      } finally {
        await port.shutdown();
      }
    } finally {
      await h.cleanup();
    }
  }, 30_000);
});
