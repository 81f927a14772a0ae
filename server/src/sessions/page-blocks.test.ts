import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { getHeapSnapshot } from 'node:v8';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { open, seal, TamperError } from '../crypto/aead';
import { createLocalKeyProvider } from '../keys/provider.local';
import { createSqlitePrivacyStore } from '../privacy/privacy.sqlite';
import { OpenedPayloadCache } from './opened-cache';
import {
  blockPayloadOf,
  codeOf,
  ctOf,
  headerCode,
  openPageBlock,
  PAGE_SEQS,
  PageBlockReader,
  placeOf,
  sealPageBlock,
  type PageBlockRow,
} from './page-blocks';
import type { MessageRow } from './sqlite-rows';
import type { Db } from '../db/sqlite';
import { draft } from './store.contract';
import { createSqliteSessionStore } from './store.sqlite';
import type { SessionStore } from './store';

/** A store on a fresh file (`writer`: the production writer thread, or inline), and cold second stores on it. */
async function harness(writer: 'worker' | 'inline') {
  const dir = mkdtempSync(join(tmpdir(), 'huiliu-pages-'));
  const path = join(dir, 'huiliu.db');
  const keys = createLocalKeyProvider(join(dir, 'keys'));
  const store = await createSqliteSessionStore({ path, keys, writer });
  const opened: { store: SessionStore; close: () => Promise<void> }[] = [];
  let stopped = false;
  return {
    dir,
    path,
    keys,
    store,
    /** Another store on the same file with nothing cached: what another process or a restart reads. */
    async cold(): Promise<SessionStore> {
      const coldKeys = createLocalKeyProvider(join(dir, 'keys'));
      const cold = await createSqliteSessionStore({ path, keys: coldKeys, writer: 'inline' });
      opened.push({ store: cold, close: () => coldKeys.close() });
      return cold;
    },
    raw: () => new Database(path),
    /** Stops the writing store (its last commits checkpointed into the file). */
    async stop() {
      if (stopped) return;
      stopped = true;
      await store.shutdown();
    },
    async cleanup() {
      for (const o of opened) {
        await o.store.shutdown();
        await o.close();
      }
      await this.stop();
      await keys.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

type Harness = Awaited<ReturnType<typeof harness>>;

/**
 * Whether a string holding `parts` joined is reachable in this thread's heap (a snapshot collects
 * garbage first). The parts are joined only after the snapshot, so the needle itself is not found.
 */
async function heapHolds(parts: readonly string[]): Promise<boolean> {
  let text = '';
  for await (const chunk of getHeapSnapshot()) text += String(chunk);
  return text.includes(JSON.stringify(parts.join('')).slice(1, -1));
}

/** `n` customer messages in one conversation of customer `externalId`; returns the session. */
async function conversationOf(h: Harness, n: number, externalId = 'visitor-pages', text = (i: number) => `message ${i} 你好 😀`) {
  let first: Awaited<ReturnType<SessionStore['appendInbound']>> | undefined;
  for (let i = 1; i <= n; i++) {
    const r = await h.store.appendInbound(draft({ identity: { channel: 'WB', externalId }, text: text(i) }), { skillGroup: 'general' });
    first ??= r;
  }
  return first!.session;
}

const texts = (messages: { body: unknown }[]) => messages.map((m) => (m.body as { text: string }).text);
const blocks = (h: Harness) => {
  const db = h.raw();
  try {
    return db.prepare('SELECT * FROM message_pages ORDER BY conversation_id, page, customer_id').all() as PageBlockRow[];
  } finally {
    db.close();
  }
};

describe('sealed page blocks: format', () => {
  const key = randomBytes(32);
  const row = (i: number, text: string): MessageRow => ({
    id: `m${i}`,
    conversation_id: 'c1',
    session_id: 's1',
    customer_id: 'u1',
    seq: i,
    channel: 'WB',
    direction: 'in',
    kind: 'text',
    payload_ct: Buffer.from([2, ...randomBytes(28 + text.length)]),
    content_hmac: 'h',
    client_message_id: `cm${i}`,
    critical: 1,
    author_id: null,
    author_kind: 'customer',
    sent_at: '2026-12-02T00:00:00.000Z',
    received_at: '2026-12-02T00:00:00.000Z',
  });
  const payloads = ['{"body":{"text":"a"},"meta":{}}', '{"body":{"text":"多字节 😀"},"meta":{}}', '{"body":{"text":""},"meta":{}}'];
  const rows = payloads.map((p, i) => row(i + 1, p));
  const place = { conversationId: 'c1', page: 0, customerId: 'u1', firstSeq: 1, lastSeq: 3 };

  it('opens to the rows it was sealed from (seq, ciphertext, header code) and their payloads (multi-byte text included)', () => {
    const block = sealPageBlock(key, place, rows, payloads);
    const opened = openPageBlock(key, place, block);
    expect({
      seqs: opened.seqs,
      cts: [0, 1, 2].map((i) => ctOf(opened, i)),
      codes: [0, 1, 2].map((i) => codeOf(opened, i)),
      payloads: [0, 1, 2].map((i) => blockPayloadOf(opened, i)),
    }).toEqual({
      seqs: [1, 2, 3],
      cts: rows.map((r) => r.payload_ct),
      codes: rows.map(headerCode),
      payloads,
    });
  });

  it('still opens a block sealed in layout 1 (stop 37: a JSON head, codes and payloads as one text) to the same rows', () => {
    const codes = rows.map(headerCode);
    const head = Buffer.from(
      JSON.stringify({
        seqs: rows.map((r) => r.seq),
        cts: rows.map((r) => r.payload_ct.length),
        codes: codes.map((c) => c.length),
        payloads: payloads.map((p) => p.length),
      }),
    );
    const length = Buffer.alloc(4);
    length.writeUInt32BE(head.length, 0);
    const plain = Buffer.concat([length, head, ...rows.map((r) => r.payload_ct), Buffer.from(codes.join('') + payloads.join(''))]);
    const layout1 = seal(key, plain, `mpage:${JSON.stringify(['c1', 0, 'u1', 1, 3])}`);
    const opened = openPageBlock(key, place, layout1);
    expect([0, 1, 2].map((i) => [opened.seqs[i], ctOf(opened, i), codeOf(opened, i), blockPayloadOf(opened, i)])).toEqual(
      rows.map((r, i) => [r.seq, r.payload_ct, codes[i], payloads[i]]),
    );
    const bad = Buffer.from(plain);
    bad.writeUInt32BE(head.length + 1, 0);
    expect(() => openPageBlock(key, place, seal(key, bad, `mpage:${JSON.stringify(['c1', 0, 'u1', 1, 3])}`))).toThrow(TamperError);
  });

  it('refuses a block whose layout-2 lengths do not add up to its plaintext', () => {
    const block = sealPageBlock(key, place, rows, payloads);
    const plain = open(key, block, `mpage:${JSON.stringify(['c1', 0, 'u1', 1, 3])}`);
    for (const at of [1, 5 + 4 * 3, 5 + 8 * 3 + 4, 5 + 12 * 3 + 8]) {
      const bad = Buffer.from(plain);
      bad.writeUInt32BE(bad.readUInt32BE(at) + 1, at);
      expect(() => openPageBlock(key, place, seal(key, bad, `mpage:${JSON.stringify(['c1', 0, 'u1', 1, 3])}`)), String(at)).toThrow(
        TamperError,
      );
    }
    expect(() => sealPageBlock(key, { ...place, firstSeq: 2 }, rows, payloads)).toThrow(RangeError);
  });

  it('refuses a flipped byte, another place and another key with TamperError', () => {
    const block = sealPageBlock(key, place, rows, payloads);
    for (let at = 0; at < block.length; at += 7) {
      const bad = Buffer.from(block);
      bad[at]! ^= 0x01;
      expect(() => openPageBlock(key, place, bad)).toThrow(TamperError);
    }
    expect(() => openPageBlock(key, { ...place, page: 1 }, block)).toThrow(TamperError);
    expect(() => openPageBlock(key, { ...place, customerId: 'u2' }, block)).toThrow(TamperError);
    expect(() => openPageBlock(key, { ...place, lastSeq: 2 }, block)).toThrow(TamperError);
    expect(() => openPageBlock(randomBytes(32), place, block)).toThrow(TamperError);
  });

  it("changes a row's header code when any header field, its seq or its ciphertext's length changes", () => {
    const base = headerCode(rows[2]!);
    const changes: Partial<MessageRow>[] = [
      { direction: 'out' },
      { seq: 9 },
      { id: 'm9' },
      { author_id: 'agent-a' },
      { author_kind: null },
      { critical: 0 },
      { client_message_id: 'cm1x' },
      { sent_at: '2026-12-02T00:00:00.001Z' },
      { session_id: 's2' },
      { channel: 'AP' },
      { kind: 'image' },
      { received_at: '2026-12-02T00:00:00.001Z' },
      { payload_ct: rows[2]!.payload_ct.subarray(0, -1) },
    ];
    for (const change of changes) expect(headerCode({ ...rows[2]!, ...change }), JSON.stringify(change)).not.toBe(base);
    // Text fields are length-prefixed: moving characters between two fields changes the code.
    expect(headerCode({ ...rows[0]!, client_message_id: 'ab', author_id: 'c' })).not.toBe(
      headerCode({ ...rows[0]!, client_message_id: 'a', author_id: 'bc' }),
    );
    expect(headerCode({ ...rows[0]!, author_id: null })).not.toBe(headerCode({ ...rows[0]!, author_id: '-' }));
    expect(placeOf({ conversation_id: 'c', page: 2, customer_id: 'u', first_seq: 101, last_seq: 150, block_ct: Buffer.alloc(0) })).toEqual({
      conversationId: 'c',
      page: 2,
      customerId: 'u',
      firstSeq: 101,
      lastSeq: 150,
    });
  });

  it('needs one payload per row', () => {
    expect(() => sealPageBlock(key, place, rows, payloads.slice(1))).toThrow(RangeError);
    expect(() => sealPageBlock(key, place, [], [])).toThrow(RangeError);
  });
});

for (const writer of ['worker', 'inline'] as const) {
  describe(`sealed page blocks in the SQLite store (${writer === 'worker' ? 'writer thread' : 'inline writer'})`, () => {
    it('seals each complete page; a cold store reads those pages from their blocks, the open page row by row', async () => {
      const h = await harness(writer);
      try {
        const session = await conversationOf(h, 2 * PAGE_SEQS + 7);
        expect(blocks(h).map((b) => [b.page, b.first_seq, b.last_seq])).toEqual([
          [0, 1, 50],
          [1, 51, 100],
        ]);
        const warm = await h.store.listMessages(session.conversationId);
        expect(warm).toHaveLength(107);
        const cold = await h.cold();
        const read = await cold.listMessages(session.conversationId);
        expect(read).toEqual(warm);
        expect(texts(read).slice(0, 2)).toEqual(['message 1 你好 😀', 'message 2 你好 😀']);
        // 100 from the two blocks; the 7 of the open page had no block: opened one by one.
        expect(cold.openedCacheStats!()).toMatchObject({ misses: 7, pageBlocks: { rows: 100, opened: 2, refused: 0 } });
        // Read again: all from the opened cache now.
        expect(await cold.listMessages(session.conversationId)).toEqual(warm);
        expect(cold.openedCacheStats!()).toMatchObject({ hits: 107, misses: 7, pageBlocks: { opened: 2 } });
      } finally {
        await h.cleanup();
      }
    });

    it("seals a closed conversation's last, partial page", async () => {
      const h = await harness(writer);
      try {
        const session = await conversationOf(h, 12);
        await h.store.claim(session.id, 'agent-a');
        await h.store.appendOutbound({
          sessionId: session.id,
          content: { kind: 'text', body: { text: 'reply' } },
          clientMessageId: 'r1',
          critical: true,
          authorId: 'agent-a',
        });
        expect(blocks(h)).toHaveLength(0);
        await h.store.close(session.id, 'agent-a', 'resolved');
        expect(blocks(h).map((b) => [b.page, b.first_seq, b.last_seq])).toEqual([[0, 1, 13]]);
        const cold = await h.cold();
        expect(texts(await cold.recentMessages(session.conversationId, { limit: 100 }).then((p) => p.messages)).at(-1)).toBe('reply');
        expect(cold.openedCacheStats!()).toMatchObject({ misses: 0, pageBlocks: { rows: 13, opened: 1 } });
      } finally {
        await h.cleanup();
      }
    });
  });
}

describe('sealed page blocks: the rows stay the record', () => {
  it('reads part of a page through its block, checking only the rows it read', async () => {
    const h = await harness('inline');
    try {
      const session = await conversationOf(h, PAGE_SEQS);
      const cold = await h.cold();
      const part = await cold.listMessages(session.conversationId, { afterSeq: 20, limit: 10 });
      expect(texts(part)).toEqual(Array.from({ length: 10 }, (_, i) => `message ${21 + i} 你好 😀`));
      expect(cold.openedCacheStats!()).toMatchObject({ misses: 0, pageBlocks: { rows: 10, opened: 1 } });
      // A page with fewer cold rows than a block is worth: opened one by one.
      const cold2 = await h.cold();
      expect(texts(await cold2.listMessages(session.conversationId, { afterSeq: 46 }))).toHaveLength(4);
      expect(cold2.openedCacheStats!()).toMatchObject({ misses: 4, pageBlocks: { opened: 0 } });
    } finally {
      await h.cleanup();
    }
  });

  it('a flipped byte in a row is still caught by that row (the block is refused), never returned as data', async () => {
    const h = await harness('inline');
    try {
      const session = await conversationOf(h, PAGE_SEQS);
      const db = h.raw();
      const row = db.prepare('SELECT id, payload_ct FROM messages WHERE seq = 17').get() as { id: string; payload_ct: Buffer };
      const bad = Buffer.from(row.payload_ct);
      bad[bad.length - 1]! ^= 0x01;
      db.prepare('UPDATE messages SET payload_ct = ? WHERE id = ?').run(bad, row.id);
      db.close();
      const cold = await h.cold();
      await expect(cold.listMessages(session.conversationId)).rejects.toThrow(TamperError);
      expect(cold.openedCacheStats!().pageBlocks).toMatchObject({ rows: 0, refused: 1 });
    } finally {
      await h.cleanup();
    }
  });

  it('a changed header field is caught (the digest binds every row header)', async () => {
    const h = await harness('inline');
    try {
      const session = await conversationOf(h, PAGE_SEQS);
      const db = h.raw();
      db.prepare(`UPDATE messages SET direction = 'out' WHERE seq = 30`).run();
      db.close();
      const cold = await h.cold();
      await expect(cold.listMessages(session.conversationId)).rejects.toThrow(TamperError);
      expect(cold.openedCacheStats!().pageBlocks).toMatchObject({ rows: 0, refused: 1 });
    } finally {
      await h.cleanup();
    }
  });

  it('a deleted row: the rows still there read through the block (each is the row it holds)', async () => {
    const h = await harness('inline');
    try {
      const session = await conversationOf(h, PAGE_SEQS);
      const db = h.raw();
      db.prepare('DELETE FROM messages WHERE seq = 9').run();
      db.close();
      const cold = await h.cold();
      expect(await cold.listMessages(session.conversationId)).toHaveLength(PAGE_SEQS - 1);
      expect(cold.openedCacheStats!()).toMatchObject({ misses: 0, pageBlocks: { rows: PAGE_SEQS - 1, refused: 0 } });
    } finally {
      await h.cleanup();
    }
  });

  it("a row put in another's place is refused by the block and caught by its own check", async () => {
    const h = await harness('inline');
    try {
      const session = await conversationOf(h, PAGE_SEQS);
      const db = h.raw();
      const ten = db.prepare('SELECT * FROM messages WHERE seq = 10').get() as MessageRow;
      db.prepare('DELETE FROM messages WHERE seq = 9').run();
      const forged = { ...ten, id: `${ten.id.slice(0, -1)}${ten.id.endsWith('0') ? '1' : '0'}`, seq: 9, client_message_id: 'forged' };
      const columns = Object.keys(forged);
      db.prepare(`INSERT INTO messages (${columns.join(', ')}) VALUES (${columns.map((c) => '@' + c).join(', ')})`).run(forged);
      db.close();
      const cold = await h.cold();
      await expect(cold.listMessages(session.conversationId)).rejects.toThrow(TamperError);
      expect(cold.openedCacheStats!().pageBlocks).toMatchObject({ rows: 0, refused: 1 });
    } finally {
      await h.cleanup();
    }
  });

  it('a flipped byte in a block: the rows are opened one by one and read as stored', async () => {
    const h = await harness('inline');
    try {
      const session = await conversationOf(h, PAGE_SEQS);
      const warm = await h.store.listMessages(session.conversationId);
      const db = h.raw();
      const block = db.prepare('SELECT block_ct FROM message_pages').get() as { block_ct: Buffer };
      const bad = Buffer.from(block.block_ct);
      bad[40]! ^= 0x80;
      db.prepare('UPDATE message_pages SET block_ct = ?').run(bad);
      db.close();
      const cold = await h.cold();
      expect(await cold.listMessages(session.conversationId)).toEqual(warm);
      expect(cold.openedCacheStats!()).toMatchObject({ misses: PAGE_SEQS, pageBlocks: { rows: 0, refused: 1 } });
    } finally {
      await h.cleanup();
    }
  });

  it("another page's block swapped in is refused", async () => {
    const h = await harness('inline');
    try {
      const session = await conversationOf(h, 2 * PAGE_SEQS);
      const db = h.raw();
      const [p0, p1] = db.prepare('SELECT block_ct FROM message_pages ORDER BY page').all() as { block_ct: Buffer }[];
      db.prepare('UPDATE message_pages SET block_ct = ? WHERE page = 0').run(p1!.block_ct);
      db.prepare('UPDATE message_pages SET block_ct = ? WHERE page = 1').run(p0!.block_ct);
      db.close();
      const cold = await h.cold();
      expect(await cold.listMessages(session.conversationId)).toHaveLength(2 * PAGE_SEQS);
      expect(cold.openedCacheStats!()).toMatchObject({ misses: 2 * PAGE_SEQS, pageBlocks: { rows: 0, refused: 2 } });
    } finally {
      await h.cleanup();
    }
  });

  it('keeps no plaintext on disk (a marker in every message of a sealed page)', async () => {
    const h = await harness('worker');
    try {
      const marker = `PAGE-MARKER-${Date.now().toString(36)}`;
      await conversationOf(h, PAGE_SEQS, 'visitor-marker', (i) => `${marker} ${i}`);
      expect(blocks(h)).toHaveLength(1);
      await h.stop();
      for (const f of readdirSync(h.dir)) {
        if (!f.startsWith('huiliu.db')) continue;
        const bytes = readFileSync(join(h.dir, f));
        expect(bytes.includes(Buffer.from(marker)), f).toBe(false);
        expect(bytes.includes(Buffer.from(marker, 'utf16le')), f).toBe(false);
      }
    } finally {
      await h.cleanup();
    }
  });

  it('retention deletes the blocks of the messages it deletes', async () => {
    const h = await harness('inline');
    try {
      const session = await conversationOf(h, PAGE_SEQS + 3);
      await h.store.claim(session.id, 'agent-a');
      await h.store.close(session.id, 'agent-a', 'resolved');
      expect(blocks(h)).toHaveLength(2);
      const keys = createLocalKeyProvider(join(h.dir, 'keys'));
      const privacy = createSqlitePrivacyStore({ path: h.path, keys });
      try {
        const report = await privacy.pruneConversations('general', new Date(Date.now() + 60_000).toISOString());
        expect(report).toMatchObject({ sessions: 1, messages: PAGE_SEQS + 3 });
      } finally {
        await privacy.close();
        await keys.close();
      }
      expect(blocks(h)).toHaveLength(0);
    } finally {
      await h.cleanup();
    }
  });

  it("erasure destroys the customer's key and removes their blocks; a cold read refuses as before", async () => {
    const h = await harness('inline');
    try {
      const session = await conversationOf(h, PAGE_SEQS);
      await conversationOf(h, PAGE_SEQS, 'visitor-other');
      expect(blocks(h)).toHaveLength(2);
      const keys = createLocalKeyProvider(join(h.dir, 'keys'));
      const privacy = createSqlitePrivacyStore({ path: h.path, keys });
      try {
        expect(await privacy.shred([session.customerId])).toMatchObject({ keysDestroyed: 1 });
      } finally {
        await privacy.close();
        await keys.close();
      }
      expect(blocks(h).map((b) => b.customer_id)).not.toContain(session.customerId);
      expect(blocks(h)).toHaveLength(1);
      const cold = await h.cold();
      await expect(cold.listMessages(session.conversationId)).rejects.toMatchObject({ code: 'CUSTOMER_ERASED' });
    } finally {
      await h.cleanup();
    }
  });
});

describe('sealed page blocks: tampering and reads a block must not cover (review)', () => {
  /** Flips the last byte of the stored ciphertext of the message at `seq`. */
  const flipRow = (h: Harness, seq: number) => {
    const db = h.raw();
    try {
      const row = db.prepare('SELECT id, payload_ct FROM messages WHERE seq = ?').get(seq) as { id: string; payload_ct: Buffer };
      const bad = Buffer.from(row.payload_ct);
      bad[bad.length - 1]! ^= 0x01;
      db.prepare('UPDATE messages SET payload_ct = ? WHERE id = ?').run(bad, row.id);
    } finally {
      db.close();
    }
  };

  it('a row whose ciphertext was flipped before its page was sealed is still caught, never vouched for', async () => {
    const h = await harness('inline');
    try {
      const session = await conversationOf(h, 10);
      flipRow(h, 5);
      await conversationOf(h, PAGE_SEQS - 10);
      const cold = await h.cold();
      await expect(cold.listMessages(session.conversationId)).rejects.toThrow(TamperError);
      expect(cold.openedCacheStats!().pageBlocks).toMatchObject({ rows: 0 });
    } finally {
      await h.cleanup();
    }
  });

  it('a header changed before its page was sealed is still caught', async () => {
    const h = await harness('inline');
    try {
      const session = await conversationOf(h, 10);
      const db = h.raw();
      db.prepare(`UPDATE messages SET direction = 'out' WHERE seq = 5`).run();
      db.close();
      await conversationOf(h, PAGE_SEQS - 10);
      const cold = await h.cold();
      await expect(cold.listMessages(session.conversationId)).rejects.toThrow(TamperError);
      expect(cold.openedCacheStats!().pageBlocks).toMatchObject({ rows: 0 });
    } finally {
      await h.cleanup();
    }
  });

  it('a header field stored as a BLOB of the same bytes is caught (the digest tells SQLite types apart)', async () => {
    const h = await harness('inline');
    try {
      const session = await conversationOf(h, PAGE_SEQS);
      const db = h.raw();
      // critical 1 → the BLOB x'31': the same text in the digest's code, but the reader's `critical === 1` is false.
      db.prepare(`UPDATE messages SET critical = CAST('1' AS BLOB) WHERE seq = 7`).run();
      db.close();
      const cold = await h.cold();
      await expect(cold.listMessages(session.conversationId)).rejects.toThrow(TamperError);
      expect(cold.openedCacheStats!().pageBlocks).toMatchObject({ rows: 0 });
    } finally {
      await h.cleanup();
    }
  });

  it('the customer timeline (newest first) reads a cold page through its block', async () => {
    const h = await harness('inline');
    try {
      const session = await conversationOf(h, PAGE_SEQS);
      const warm = await h.store.listMessages(session.conversationId);
      const cold = await h.cold();
      const page = await cold.timeline(session.customerId, { limit: PAGE_SEQS });
      expect(page.messages).toEqual([...warm].reverse());
      expect(cold.openedCacheStats!()).toMatchObject({ misses: 0, pageBlocks: { rows: PAGE_SEQS, opened: 1, refused: 0 } });
    } finally {
      await h.cleanup();
    }
  });

  it('a row read with another conversation or customer than the one the block was checked against gets no payload from it', () => {
    const db = new Database(':memory:');
    try {
      db.exec(`CREATE TABLE messages (id TEXT PRIMARY KEY, conversation_id TEXT, session_id TEXT, customer_id TEXT, seq INTEGER,
        channel TEXT, direction TEXT, kind TEXT, payload_ct BLOB, content_hmac TEXT, client_message_id TEXT, critical INTEGER,
        author_id TEXT, author_kind TEXT, sent_at TEXT, received_at TEXT);
        CREATE TABLE message_pages (conversation_id TEXT, page INTEGER, customer_id TEXT, first_seq INTEGER, last_seq INTEGER,
        block_ct BLOB, PRIMARY KEY (conversation_id, page, customer_id));`);
      const key = randomBytes(32);
      const rows: MessageRow[] = Array.from({ length: 6 }, (_, i) => ({
        id: `m${i + 1}`,
        conversation_id: 'c1',
        session_id: 's1',
        customer_id: 'u1',
        seq: i + 1,
        channel: 'WB',
        direction: 'in',
        kind: 'text',
        payload_ct: Buffer.from([2, ...randomBytes(40)]),
        content_hmac: 'h',
        client_message_id: `cm${i + 1}`,
        critical: 1,
        author_id: null,
        author_kind: 'customer',
        sent_at: '2026-12-02T00:00:00.000Z',
        received_at: '2026-12-02T00:00:00.000Z',
      }));
      const insert = db.prepare(`INSERT INTO messages VALUES (@id, @conversation_id, @session_id, @customer_id, @seq, @channel, @direction,
        @kind, @payload_ct, @content_hmac, @client_message_id, @critical, @author_id, @author_kind, @sent_at, @received_at)`);
      for (const r of rows) insert.run(r);
      const payloads = rows.map((r) => `{"body":{"text":"${r.id}"},"meta":{}}`);
      const place = { conversationId: 'c1', page: 0, customerId: 'u1', firstSeq: 1, lastSeq: 6 };
      db.prepare('INSERT INTO message_pages VALUES (?, ?, ?, ?, ?, ?)').run('c1', 0, 'u1', 1, 6, sealPageBlock(key, place, rows, payloads));
      const reader = new PageBlockReader(db, () => key, new OpenedPayloadCache(0));
      // What a read saw while the row was elsewhere (another statement than the block's check, the file changed between).
      for (const change of [{ conversation_id: 'c2' }, { customer_id: 'u2' }] as Partial<MessageRow>[]) {
        const read = rows.map((r, i) => (i === 2 ? { ...r, ...change } : r));
        const vouched = reader.vouch(read);
        expect(vouched?.[0]).toBe(payloads[0]);
        expect(vouched?.[2], JSON.stringify(change)).toBeUndefined();
      }
    } finally {
      db.close();
    }
  });

  it("erasure leaves none of the customer's payloads in the writer's memory of recent payloads", async () => {
    const h = await harness('inline');
    try {
      const marker = `ERASE-MARKER-${Date.now().toString(36)}`;
      // Below a page: nothing sealed, the payloads only remembered (and in the store's opened cache).
      const session = await conversationOf(h, 10, 'visitor-erased', (i) => `${marker} ${i}`);
      // The payload of message 7 as the writer seals it.
      const needle = ['{"body":{"text":"', marker, ' 7"},"meta":{}}'];
      expect(await heapHolds(needle)).toBe(true);
      // The server's privacy store shares the store's key provider (so every thread's ring learns of the erasure).
      const privacy = createSqlitePrivacyStore({ path: h.path, keys: h.keys });
      try {
        expect(await privacy.shred([session.customerId])).toMatchObject({ keysDestroyed: 1 });
      } finally {
        await privacy.close();
      }
      // What the server does on `customer.erased`; the writer learns of it at its next key use.
      h.store.forgetCached([session.customerId]);
      await conversationOf(h, 1, 'visitor-after');
      expect(await heapHolds(needle)).toBe(false);
    } finally {
      await h.cleanup();
    }
  });

  it("a read of one customer's messages opens no other customer's block of the page (a merge group's conversation)", async () => {
    const h = await harness('inline');
    try {
      const a = await h.store.appendInbound(draft({ identity: { channel: 'WB', externalId: 'pages-a' }, text: 'a' }), {
        skillGroup: 'general',
      });
      const b = await h.store.appendInbound(draft({ identity: { channel: 'AP', externalId: 'pages-b' } }), { skillGroup: 'general' });
      await h.store.mergeCustomers({
        survivorId: a.session.customerId,
        mergedId: b.session.customerId,
        by: 'agent-a',
        reason: 'same person',
      });
      await h.store.claim(b.session.id, 'agent-a');
      await h.store.close(b.session.id, 'agent-a', 'resolved');
      // B goes on in A's open conversation: its page holds both customers' messages, one block each.
      for (let i = 2; i <= PAGE_SEQS; i++) {
        const identity =
          i % 3 === 0 ? { channel: 'AP' as const, externalId: 'pages-b' } : { channel: 'WB' as const, externalId: 'pages-a' };
        await h.store.appendInbound(draft({ identity, text: `m ${i}` }), { skillGroup: 'general' });
      }
      expect(blocks(h).filter((x) => x.conversation_id === a.session.conversationId)).toHaveLength(2);
      const cold = await h.cold();
      // B's data key in the ring (a read of B's newest message: too few rows for a block).
      expect(
        (await cold.listMessages(a.session.conversationId, { afterSeq: PAGE_SEQS - 3, customerId: b.session.customerId })).length,
      ).toBe(1);
      const own = await cold.listMessages(a.session.conversationId, { customerId: a.session.customerId });
      expect(own.every((m) => m.customerId === a.session.customerId)).toBe(true);
      expect(cold.openedCacheStats!()).toMatchObject({ misses: 1, pageBlocks: { rows: own.length, opened: 1, refused: 0 } });
    } finally {
      await h.cleanup();
    }
  });
});

/** The two tables a `PageBlockReader` reads, in memory, and a way to add rows and sealed blocks (`key`: every customer's). */
function memoryPages(key: Buffer) {
  const db = new Database(':memory:');
  db.exec(`CREATE TABLE messages (id TEXT PRIMARY KEY, conversation_id TEXT, session_id TEXT, customer_id TEXT, seq INTEGER,
    channel TEXT, direction TEXT, kind TEXT, payload_ct BLOB, content_hmac TEXT, client_message_id TEXT, critical INTEGER,
    author_id TEXT, author_kind TEXT, sent_at TEXT, received_at TEXT);
    CREATE TABLE message_pages (conversation_id TEXT, page INTEGER, customer_id TEXT, first_seq INTEGER, last_seq INTEGER,
    block_ct BLOB, PRIMARY KEY (conversation_id, page, customer_id));`);
  const rowOf = (conversationId: string, customerId: string, seq: number): MessageRow => ({
    id: `${conversationId}-${seq}`,
    conversation_id: conversationId,
    session_id: 's1',
    customer_id: customerId,
    seq,
    channel: 'WB',
    direction: 'in',
    kind: 'text',
    payload_ct: Buffer.from([2, ...randomBytes(40)]),
    content_hmac: 'h',
    client_message_id: `cm${seq}`,
    critical: 0,
    author_id: null,
    author_kind: 'customer',
    sent_at: '2026-12-03T00:00:00.000Z',
    received_at: '2026-12-03T00:00:00.000Z',
  });
  const payloadOf = (r: MessageRow) => `{"body":{"text":"${r.id}"},"meta":{}}`;
  return {
    db,
    payloadOf,
    /** Seals `rows` (one customer's, of one page, in seq order) as their page's block. */
    seal(rows: MessageRow[]) {
      const first = rows[0]!;
      const page = Math.floor((first.seq - 1) / PAGE_SEQS);
      const place = {
        conversationId: first.conversation_id,
        page,
        customerId: first.customer_id,
        firstSeq: first.seq,
        lastSeq: rows.at(-1)!.seq,
      };
      db.prepare('INSERT INTO message_pages VALUES (?, ?, ?, ?, ?, ?)').run(
        place.conversationId,
        page,
        place.customerId,
        place.firstSeq,
        place.lastSeq,
        sealPageBlock(key, place, rows, rows.map(payloadOf)),
      );
    },
    /** `customerId`'s rows at `seqs` of `conversationId`. */
    rows: (conversationId: string, customerId: string, seqs: readonly number[]) =>
      seqs.map((seq) => rowOf(conversationId, customerId, seq)),
    /** A view of `db` that records every row a statement answers. */
    watched(): { db: Db; fetched: Record<string, unknown>[] } {
      const fetched: Record<string, unknown>[] = [];
      const record = (r: unknown) => {
        if (r) fetched.push(r as Record<string, unknown>);
        return r;
      };
      const view = new Proxy(db, {
        get(target, name) {
          if (name !== 'prepare') return Reflect.get(target, name, target) as unknown;
          return (sql: string) => {
            const stmt = target.prepare(sql);
            return new Proxy(stmt, {
              get(s, method) {
                const f = Reflect.get(s, method, s) as unknown;
                if (typeof f !== 'function') return f;
                if (method === 'all') return (...args: unknown[]) => (s.all(...args) as unknown[]).map(record);
                if (method === 'get') return (...args: unknown[]) => record(s.get(...args));
                if (method === 'iterate') return (...args: unknown[]) => [...s.iterate(...args)].map(record)[Symbol.iterator]();
                return (f as (...a: unknown[]) => unknown).bind(s);
              },
            });
          };
        },
      });
      return { db: view, fetched };
    },
  };
}

describe('sealed page blocks: hostile file and odd reads (review 9)', () => {
  it('a payload column re-typed as TEXT on a row this store has cached answers TamperError (not a TypeError)', async () => {
    const h = await harness('inline');
    try {
      const session = await conversationOf(h, 10);
      // The writing store keeps what it wrote in its opened cache: every row is a cached id here.
      expect(await h.store.listMessages(session.conversationId)).toHaveLength(10);
      const db = h.raw();
      db.prepare(`UPDATE messages SET payload_ct = 'not a ciphertext' WHERE seq = 4`).run();
      db.close();
      await expect(h.store.listMessages(session.conversationId)).rejects.toThrow(TamperError);
    } finally {
      await h.cleanup();
    }
  });

  it("a read of a customer's messages on two distant pages fetches only those pages' blocks of that customer (not every block between)", () => {
    const key = randomBytes(32);
    const m = memoryPages(key);
    try {
      // A merge group's conversation: B wrote on page 0 and again on page 40; A wrote everything between.
      const early = m.rows('c1', 'B', [1, 2, 3, 4, 5, 6]);
      const late = m.rows('c1', 'B', [2001, 2002, 2003, 2004, 2005, 2006]);
      m.seal(early);
      m.seal(late);
      for (let page = 0; page <= 40; page++) {
        const seqs = Array.from({ length: PAGE_SEQS }, (_, i) => page * PAGE_SEQS + 1 + i).filter((s) => s > 6 && (s < 2001 || s > 2006));
        m.seal(m.rows('c1', 'A', seqs));
      }
      const { db, fetched } = m.watched();
      const reader = new PageBlockReader(db, () => key, new OpenedPayloadCache(0));
      // What `listMessages(c1, { customerId: B })` reads: B's rows only.
      const read = [...early, ...late];
      const vouched = reader.vouch(read);
      expect(vouched).toEqual(read.map(m.payloadOf));
      expect(reader.stats).toMatchObject({ rows: 12, opened: 2, refused: 0 });
      // Before: every block of pages 0–40 of both customers (43 block BLOBs) was read from the file for 2 opened.
      expect(fetched.filter((r) => 'block_ct' in r).map((r) => [r.page, r.customer_id])).toEqual([
        [0, 'B'],
        [40, 'B'],
      ]);
    } finally {
      m.db.close();
    }
  });

  it('checks each row of a read against its own block only: the work is linear in the rows, however many blocks the read opens', () => {
    const key = randomBytes(32);
    const m = memoryPages(key);
    try {
      // A merge group's conversation of 40 pages, five customers taking turns: 200 blocks of 10 rows.
      const customers = ['A', 'B', 'C', 'D', 'E'];
      const read: MessageRow[] = [];
      for (let page = 0; page < 40; page++) {
        for (const [c, customerId] of customers.entries()) {
          const own = m.rows(
            'c1',
            customerId,
            Array.from({ length: PAGE_SEQS / customers.length }, (_, i) => page * PAGE_SEQS + 1 + c + i * customers.length),
          );
          m.seal(own);
          read.push(...own);
        }
      }
      read.sort((a, b) => a.seq - b.seq);
      // Every field a check reads of a row is counted.
      let reads = 0;
      const counted = read.map((r) => new Proxy(r, { get: (t, name) => (reads++, Reflect.get(t, name, t) as unknown) }));
      const reader = new PageBlockReader(m.db, () => key, new OpenedPayloadCache(0));
      const vouched = reader.vouch(counted);
      expect(reader.stats).toMatchObject({ rows: 2000, opened: 200, refused: 0 });
      expect(vouched?.[1234]).toBe(m.payloadOf(read[1234]!));
      // Before: each of the 200 blocks walked the whole read (2,000 rows): ≥ 400,000 field reads, and a
      // read of 10,000 such messages took ~0.3 s of this thread (5× opening them one by one).
      expect(reads / read.length).toBeLessThan(60);
    } finally {
      m.db.close();
    }
  });

  it("opens a customer's block only when that customer has enough cold rows on the page (a merge group's page of many customers)", () => {
    const key = randomBytes(32);
    const m = memoryPages(key);
    try {
      // Page 0: A wrote 10 messages, 40 other members of the group one each — 41 blocks.
      const a = m.rows('c1', 'A', [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      m.seal(a);
      const others = Array.from({ length: 40 }, (_, i) => m.rows('c1', `O${i}`, [11 + i])[0]!);
      for (const o of others) m.seal([o]);
      const reader = new PageBlockReader(m.db, () => key, new OpenedPayloadCache(0));
      const read = [...a, ...others];
      const vouched = reader.vouch(read);
      expect(vouched?.slice(0, a.length)).toEqual(a.map(m.payloadOf));
      // Before: the page's 50 cold rows opened all 41 blocks — 40 of one row each, ~8× the cost of
      // opening those rows (a point read, a GCM open and a head to parse per block).
      expect(reader.stats).toMatchObject({ rows: 10, opened: 1, refused: 0 });
      expect(vouched?.slice(a.length)).toEqual(others.map(() => undefined));
    } finally {
      m.db.close();
    }
  });
});
