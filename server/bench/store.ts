/**
 * The session store against raw better-sqlite3 in the same process (DESIGN §9: store ≥ 50 % of raw
 * ops, encryption keeps ≥ 70 %). A library benchmark, so no server and no generator process: each
 * side runs `n` operations, one awaited at a time.
 *
 *   store write   SessionStore.appendInbound vs raw inserts with the same durability (WAL,
 *                 synchronous=FULL, one transaction per message)
 *   encryption    raw inserts with AES-256-GCM sealing vs raw inserts of plaintext (writes), and raw
 *                 SELECT + open vs raw SELECT (reads)
 *   store read    SessionStore.listMessages(50) vs raw SELECT + decrypt
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { openText, sealText } from '../src/crypto/aead';
import { openDatabase } from '../src/db/sqlite';
import { createLocalKeyProvider } from '../src/keys/provider.local';
import { createSqliteSessionStore } from '../src/sessions/store.sqlite';
import { TEXT } from './jobs';

/** One measured pair: ops/s of the side under test and of its baseline, with the goal ratio. */
export interface StoreLine {
  line: string;
  measured: number;
  baseline: number;
  /** measured / baseline must be at least this. */
  goal: number;
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
  lines.push({ line: 'encryption keeps, reads (sealed / plaintext)', measured: rawSealedRead, baseline: rawRead, goal: 0.7 });
  const storeRead = await rate(
    'SessionStore.listMessages 50 (decrypting)',
    pages * 5,
    async () => {
      for (let r = 0; r < 5; r++) for (let i = 0; i < pages; i++) await store.listMessages(conversationId, { afterSeq: i * 50, limit: 50 });
    },
    log,
  );
  lines.push({ line: 'session store read (store / raw sealed selects)', measured: storeRead, baseline: rawSealedRead, goal: 0.5 });

  await store.shutdown();
  await keys.close();
  plain.db.close();
  sealed.db.close();
  return lines;
}
