/**
 * The session store against raw better-sqlite3 in the same process (DESIGN §9: store ≥ 50 % of raw
 * ops, encryption keeps ≥ 70 %). A library benchmark, so no server and no generator process: each
 * side runs `n` operations, one awaited at a time.
 *
 *   store write   SessionStore.appendInbound vs raw inserts with the same durability (WAL,
 *                 synchronous=FULL, one transaction per message)
 *   encryption    raw inserts with AES-256-GCM sealing vs raw inserts of plaintext (writes), and raw
 *                 SELECT + open vs raw SELECT (reads: the first read, and reads again through the
 *                 opened-payload cache the store keeps)
 *   store read    SessionStore.listMessages(50) vs raw better-sqlite3 on the store's file: the same
 *                 SELECT, the same data key, cached opens (the same work); and the store's first read
 *                 of what it wrote (its writer's write-through) vs raw plaintext reads
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { openText, sealText } from '../src/crypto/aead';
import { openDatabase } from '../src/db/sqlite';
import { createLocalKeyProvider } from '../src/keys/provider.local';
import { OpenedPayloadCache } from '../src/sessions/opened-cache';
import { customerKeyOwner, messageAadOf, rowHeader, type MessageRow } from '../src/sessions/sqlite-rows';
import { createSqliteSessionStore } from '../src/sessions/store.sqlite';
import { TEXT } from './jobs';

/** One measured pair: ops/s of the side under test and of its baseline, with the goal ratio. */
export interface StoreLine {
  line: string;
  measured: number;
  baseline: number;
  /** measured / baseline must be at least this; null: measured, no goal (a cost shown against the path without it). */
  goal: number | null;
}

async function rate(label: string, ops: number, fn: () => Promise<void> | void, log: (s: string) => void): Promise<number> {
  const t0 = process.hrtime.bigint();
  await fn();
  const r = ops / (Number(process.hrtime.bigint() - t0) / 1e9);
  log(`    ${label.padEnd(44)} ${r.toFixed(0).padStart(8)} ops/s`);
  return r;
}

function rawDb(dir: string, name: string) {
  const db = openDatabase(join(dir, name));
  db.exec(`CREATE TABLE conv (id TEXT PRIMARY KEY, last_seq INTEGER NOT NULL);
    CREATE TABLE msg (id TEXT PRIMARY KEY, conv TEXT NOT NULL, seq INTEGER NOT NULL, body BLOB NOT NULL, UNIQUE (conv, seq));
    INSERT INTO conv VALUES ('c', 0);`);
  const next = db.prepare('UPDATE conv SET last_seq = last_seq + 1 WHERE id = ? RETURNING last_seq');
  const insert = db.prepare('INSERT INTO msg (id, conv, seq, body) VALUES (?, ?, ?, ?)');
  return { db, next, insert };
}

/** Runs the store lines with `n` writes each (reads: n / 50 pages, five times) in `dir`. */
export async function storeLines(dir: string, n: number, log: (s: string) => void): Promise<StoreLine[]> {
  const lines: StoreLine[] = [];
  const plain = rawDb(dir, 'raw-plain.db');
  const rawWrite = await rate(
    'raw better-sqlite3 insert (plaintext)',
    n,
    () => {
      for (let i = 0; i < n; i++) {
        plain.db.transaction(() => {
          const { last_seq } = plain.next.get('c') as { last_seq: number };
          plain.insert.run(`m${i}`, 'c', last_seq, Buffer.from(JSON.stringify({ text: TEXT })));
        })();
      }
    },
    log,
  );
  const sealed = rawDb(dir, 'raw-sealed.db');
  const key = randomBytes(32);
  const rawSealedWrite = await rate(
    'raw better-sqlite3 insert + AES-256-GCM',
    n,
    () => {
      for (let i = 0; i < n; i++) {
        sealed.db.transaction(() => {
          const { last_seq } = sealed.next.get('c') as { last_seq: number };
          sealed.insert.run(`m${i}`, 'c', last_seq, sealText(key, JSON.stringify({ text: TEXT }), `msg:m${i}:body`));
        })();
      }
    },
    log,
  );
  lines.push({ line: 'encryption keeps, writes (sealed / plaintext)', measured: rawSealedWrite, baseline: rawWrite, goal: 0.7 });

  const keys = createLocalKeyProvider(join(dir, 'keys'));
  const store = await createSqliteSessionStore({ path: join(dir, 'store.db'), keys });
  const now = new Date().toISOString();
  let conversationId = '';
  const storeWrite = await rate(
    'SessionStore.appendInbound (encrypted)',
    n,
    async () => {
      for (let i = 0; i < n; i++) {
        const r = await store.appendInbound(
          {
            identity: { channel: 'AP', externalId: 'bench-user' },
            content: { kind: 'text', body: { text: TEXT } },
            critical: true,
            clientMessageId: `b-${i}`,
            sentAt: now,
            receivedAt: now,
            meta: {},
          },
          { skillGroup: 'general' },
        );
        conversationId = r.envelope.conversationId;
      }
    },
    log,
  );
  lines.push({ line: 'session store write (store / raw inserts)', measured: storeWrite, baseline: rawWrite, goal: 0.5 });
  // The same appends as a server makes them: many customers at once (16 in flight, each awaiting its
  // own), so one group commit (one transaction, one WAL sync) serves several. Raw better-sqlite3 is
  // synchronous: one transaction per message is all it does, in flight or not. Measured, no goal of its
  // own: the line above is the one-at-a-time cost (every write pays the writer thread's hop).
  const inFlight = 16;
  const storeWriteConcurrent = await rate(
    `SessionStore.appendInbound, ${inFlight} customers in flight`,
    n,
    async () => {
      let next = 0;
      await Promise.all(
        Array.from({ length: inFlight }, async (_, c) => {
          for (let i = next++; i < n; i = next++)
            await store.appendInbound(
              {
                identity: { channel: 'AP', externalId: `bench-many-${c}` },
                content: { kind: 'text', body: { text: TEXT } },
                critical: true,
                clientMessageId: `m-${i}`,
                sentAt: now,
                receivedAt: now,
                meta: {},
              },
              { skillGroup: 'general' },
            );
        }),
      );
    },
    log,
  );
  lines.push({
    line: `session store write, ${inFlight} customers in flight (group commit) / raw inserts`,
    measured: storeWriteConcurrent,
    baseline: rawWrite,
    goal: null,
  });

  const pages = Math.floor(n / 50);
  const selectPlain = plain.db.prepare('SELECT * FROM msg WHERE conv = ? AND seq > ? ORDER BY seq LIMIT 50');
  const selectSealed = sealed.db.prepare('SELECT * FROM msg WHERE conv = ? AND seq > ? ORDER BY seq LIMIT 50');
  const rawRead = await rate(
    'raw SELECT 50 + JSON.parse (plaintext)',
    pages * 5,
    () => {
      for (let r = 0; r < 5; r++)
        for (let i = 0; i < pages; i++)
          for (const row of selectPlain.all('c', i * 50) as { body: Buffer }[]) JSON.parse(row.body.toString());
    },
    log,
  );
  const rawSealedRead = await rate(
    'raw SELECT 50 + AES-256-GCM open + parse',
    pages * 5,
    () => {
      for (let r = 0; r < 5; r++)
        for (let i = 0; i < pages; i++)
          for (const row of selectSealed.all('c', i * 50) as { id: string; body: Buffer }[])
            JSON.parse(openText(key, row.body, `msg:${row.id}:body`));
    },
    log,
  );
  lines.push({ line: 'encryption keeps, reads, first read (sealed / plaintext)', measured: rawSealedRead, baseline: rawRead, goal: 0.7 });
  // What the store does since issue 14: payloads opened once stay in a bounded LRU (OpenedPayloadCache),
  // so history read again (an agent reopening a chat, a reconnect, the AI reading context) is not
  // decrypted again. One warm-up round opens every page; the five measured rounds read them again.
  const opened = new OpenedPayloadCache();
  const openedRead = (rounds: number) => {
    for (let r = 0; r < rounds; r++)
      for (let i = 0; i < pages; i++)
        for (const row of selectSealed.all('c', i * 50) as { id: string; body: Buffer }[])
          JSON.parse(opened.open(row.id, 'c', key, row.body, () => `msg:${row.id}:body`));
  };
  openedRead(1);
  const rawOpenedRead = await rate('raw SELECT 50 + opened-payload cache + parse', pages * 5, () => openedRead(5), log);
  lines.push({ line: 'encryption keeps, reads again (cached opens / plaintext)', measured: rawOpenedRead, baseline: rawRead, goal: 0.7 });
  // The store's read against raw better-sqlite3 doing the same work on the store's own file: the same
  // SELECT of the messages table, the same data key, cached opens and JSON.parse.
  const storeDb = openDatabase(join(dir, 'store.db'));
  const customerId = (storeDb.prepare('SELECT customer_id FROM messages LIMIT 1').get() as { customer_id: string }).customer_id;
  const wrappedKey = storeDb.prepare('SELECT kek_id, wrapped FROM data_keys WHERE owner = ?').get(customerKeyOwner(customerId)) as {
    kek_id: string;
    wrapped: Buffer;
  };
  const customerKey = await keys.unwrapDataKey({ kekId: wrappedKey.kek_id, wrapped: wrappedKey.wrapped });
  const selectStore = storeDb.prepare('SELECT * FROM messages WHERE conversation_id = ? AND seq > ? ORDER BY seq LIMIT 50');
  const rawOpened = new OpenedPayloadCache();
  const rawStoreRead = (rounds: number) => {
    for (let r = 0; r < rounds; r++)
      for (let i = 0; i < pages; i++)
        for (const row of selectStore.all(conversationId, i * 50) as MessageRow[])
          JSON.parse(rawOpened.open(row.id, customerId, customerKey, row.payload_ct, messageAadOf(rowHeader(row))));
  };
  rawStoreRead(1);
  const rawStoreReadRate = await rate('raw SELECT 50 on the store file + cached open', pages * 5, () => rawStoreRead(5), log);
  // The store's first read of the messages it wrote: since stop 36 its writer hands each sealed message
  // and its payload to this thread's opened cache (write-through), so this read opens (almost) nothing:
  // against the same baseline as the store read below (raw SELECT on the store's file + cached opens),
  // i.e. the first read costs what a read again costs (which keeps ≥ 70 % of plaintext: the raw lines).
  const before = store.openedCacheStats!();
  const storeFirstRead = await rate(
    'SessionStore.listMessages 50, first read (write-through)',
    pages,
    async () => {
      for (let i = 0; i < pages; i++) await store.listMessages(conversationId, { afterSeq: i * 50, limit: 50 });
    },
    log,
  );
  const after = store.openedCacheStats!();
  log(`    (that first read: ${after.hits - before.hits} payloads from the cache, ${after.misses - before.misses} opened)`);
  lines.push({
    line: 'session store first read of what it wrote (write-through / raw same SELECT + cached open)',
    measured: storeFirstRead,
    baseline: rawStoreReadRate,
    goal: 0.5,
  });
  await store.listMessages(conversationId, { limit: n }); // the store's warm-up round
  const storeRead = await rate(
    'SessionStore.listMessages 50 (decrypting)',
    pages * 5,
    async () => {
      for (let r = 0; r < 5; r++) for (let i = 0; i < pages; i++) await store.listMessages(conversationId, { afterSeq: i * 50, limit: 50 });
    },
    log,
  );
  lines.push({
    line: 'session store read (store / raw same SELECT + cached open)',
    measured: storeRead,
    baseline: rawStoreReadRate,
    goal: 0.5,
  });
  // The cold read (issue 14): another process or a restart reads history this process never opened.
  // Complete pages are sealed as page blocks (sessions/page-blocks.ts): one open per page, each row
  // checked against the block's digest. A store on the same file with its opened cache off (so every
  // round is cold) against raw better-sqlite3 reading a plaintext twin of the same messages table (the
  // same columns and index, the payload stored as its JSON text): the same SELECT and a JSON.parse each.
  const twin = openDatabase(join(dir, 'plain-twin.db'));
  const columns = (storeDb.prepare('SELECT sql FROM sqlite_master WHERE type = ? AND name = ?').get('table', 'messages') as { sql: string })
    .sql;
  twin.exec(columns.replace(/REFERENCES \w+\s*\(\w+\)/g, ''));
  twin.exec('CREATE INDEX twin_conv_seq ON messages (conversation_id, seq)');
  const warmAll = await store.listMessages(conversationId, { limit: n });
  const plainOf = new Map(warmAll.map((m) => [m.id, Buffer.from(JSON.stringify({ body: m.body, meta: m.meta }))]));
  const rowsAll = storeDb.prepare('SELECT * FROM messages WHERE conversation_id = ? ORDER BY seq').all(conversationId) as MessageRow[];
  const names = Object.keys(rowsAll[0]!);
  const insertTwin = twin.prepare(`INSERT INTO messages (${names.join(', ')}) VALUES (${names.map((c) => '@' + c).join(', ')})`);
  twin.transaction(() => {
    for (const row of rowsAll) insertTwin.run({ ...row, payload_ct: plainOf.get(row.id)! });
  })();
  const selectTwin = twin.prepare('SELECT * FROM messages WHERE conversation_id = ? AND seq > ? ORDER BY seq LIMIT 50');
  const coldKeys = createLocalKeyProvider(join(dir, 'keys'));
  const coldStore = await createSqliteSessionStore({ path: join(dir, 'store.db'), keys: coldKeys, writer: 'inline', openedCacheBytes: 0 });
  // Reads of 50 from seq `offset + 50·i`: offset 0 reads whole pages (one block each); offset 25 — as
  // the workstation's "latest 50" mostly does — spans two pages, so each read opens two blocks and reads
  // the rest of both pages to check them.
  for (const [offset, label] of [
    [0, 'pages'],
    [25, 'across two pages'],
  ] as const) {
    const reads = offset === 0 ? pages : pages - 1;
    const twinRead = () => {
      for (let i = 0; i < reads; i++)
        for (const row of selectTwin.all(conversationId, offset + i * 50) as MessageRow[]) JSON.parse(row.payload_ct.toString());
    };
    const coldRead = async () => {
      for (let i = 0; i < reads; i++) await coldStore.listMessages(conversationId, { afterSeq: offset + i * 50, limit: 50 });
    };
    twinRead();
    await coldRead(); // statements prepared, the customer's key loaded: what stays cold is the payloads
    const coldBefore = coldStore.openedCacheStats!();
    // The two sides alternate in short rounds and each keeps its fastest: on a shared machine a burst of
    // other work then slows one round of either side, not a whole side.
    let twinBest = Infinity;
    let coldBest = Infinity;
    for (let k = 0; k < 12; k++) {
      let t0 = process.hrtime.bigint();
      twinRead();
      twinBest = Math.min(twinBest, Number(process.hrtime.bigint() - t0));
      t0 = process.hrtime.bigint();
      await coldRead();
      coldBest = Math.min(coldBest, Number(process.hrtime.bigint() - t0));
    }
    const twinReadRate = reads / (twinBest / 1e9);
    const coldReadRate = reads / (coldBest / 1e9);
    log(
      `    ${`raw SELECT 50 + parse (plaintext twin), ${label}`.padEnd(44)} ${twinReadRate.toFixed(0).padStart(8)} ops/s  (fastest of 12 rounds)`,
    );
    log(
      `    ${`SessionStore.listMessages 50 cold, ${label}`.padEnd(44)} ${coldReadRate.toFixed(0).padStart(8)} ops/s  (fastest of 12 rounds)`,
    );
    const coldAfter = coldStore.openedCacheStats!();
    log(
      `    (those cold reads: ${coldAfter.pageBlocks!.rows - coldBefore.pageBlocks!.rows} payloads vouched by ${coldAfter.pageBlocks!.opened - coldBefore.pageBlocks!.opened} page blocks, ${coldAfter.misses - coldBefore.misses} opened one by one)`,
    );
    lines.push({
      line: `encryption keeps, cold store read, ${label} (page blocks / raw plaintext twin)`,
      measured: coldReadRate,
      baseline: twinReadRate,
      goal: 0.7,
    });
  }
  await coldStore.shutdown();
  await coldKeys.close();
  twin.close();
  storeDb.close();

  await store.shutdown();
  await keys.close();
  plain.db.close();
  sealed.db.close();
  return lines;
}
