/**
 * `npm run bench`: speed targets of DESIGN §9 as ratios against a bare baseline measured in the same
 * run. The one absolute target (message → agent p99, DESIGN §9) is printed with the bare baseline's
 * p99 beside it. Bounded: a few thousand operations each.
 *
 *   session store write  — SessionStore.appendInbound vs raw better-sqlite3 inserts with the same
 *                          durability (WAL, synchronous=FULL, one transaction per message) — target ≥ 50 %
 *   encryption           — raw inserts with AES-256-GCM sealing vs raw inserts of plaintext — target ≥ 70 %
 *   session store read   — SessionStore.listMessages vs raw SELECT + decrypt — target ≥ 50 %
 *   encryption, reads    — raw SELECT + AES-256-GCM open vs raw SELECT of plaintext — target ≥ 70 %
 *   message → agent      — p99 from the app channel to the agent's socket at a paced 1,000 msg/s,
 *                          against a bare socket.io push in the same run (see latency.ts) — p99 ≤ 50 ms
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openText, sealText } from '../src/crypto/aead';
import { openDatabase } from '../src/db/sqlite';
import { createLocalKeyProvider } from '../src/keys/provider.local';
import { createSqliteSessionStore } from '../src/sessions/store.sqlite';
import { baselineLatency, huiliuLatency, type LatencyResult } from './latency';

const N = Number(process.env.BENCH_N ?? 3000);
const TEXT = '您好，我的订单 202311150001 还没有发货，能帮我查一下吗？Where is my parcel?';

async function timed(label: string, ops: number, fn: () => Promise<void> | void): Promise<number> {
  const t0 = process.hrtime.bigint();
  await fn();
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  const rate = ops / s;
  process.stdout.write(`  ${label.padEnd(44)} ${rate.toFixed(0).padStart(8)} ops/s\n`);
  return rate;
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

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'huiliu-bench-'));
  const rows: { what: string; ratio: number; target: number }[] = [];
  try {
    process.stdout.write(`Huiliu benchmarks (N=${N}, Node ${process.version})\n\n`);

    const plain = rawDb(dir, 'raw-plain.db');
    const baseline = await timed('raw better-sqlite3 insert (plaintext)', N, () => {
      for (let i = 0; i < N; i++) {
        plain.db.transaction(() => {
          const { last_seq } = plain.next.get('c') as { last_seq: number };
          plain.insert.run(`m${i}`, 'c', last_seq, Buffer.from(JSON.stringify({ text: TEXT })));
        })();
      }
    });

    const sealed = rawDb(dir, 'raw-sealed.db');
    const key = randomBytes(32);
    const withCrypto = await timed('raw better-sqlite3 insert + AES-256-GCM', N, () => {
      for (let i = 0; i < N; i++) {
        sealed.db.transaction(() => {
          const { last_seq } = sealed.next.get('c') as { last_seq: number };
          sealed.insert.run(`m${i}`, 'c', last_seq, sealText(key, JSON.stringify({ text: TEXT }), `msg:m${i}:body`));
        })();
      }
    });
    rows.push({ what: 'encryption keeps, writes (sealed / plaintext)', ratio: withCrypto / baseline, target: 0.7 });

    const keys = createLocalKeyProvider(join(dir, 'keys'));
    const store = await createSqliteSessionStore({ path: join(dir, 'store.db'), keys });
    const now = new Date().toISOString();
    let conversationId = '';
    const storeRate = await timed('SessionStore.appendInbound (encrypted)', N, async () => {
      for (let i = 0; i < N; i++) {
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
    });
    rows.push({ what: 'session store write (store / raw inserts)', ratio: storeRate / baseline, target: 0.5 });

    const reads = Math.floor(N / 50);
    const selectPlain = plain.db.prepare('SELECT * FROM msg WHERE conv = ? AND seq > ? ORDER BY seq LIMIT 50');
    const selectSealed = sealed.db.prepare('SELECT * FROM msg WHERE conv = ? AND seq > ? ORDER BY seq LIMIT 50');
    const rawRead = await timed('raw SELECT 50 + JSON.parse (plaintext)', reads * 5, () => {
      for (let r = 0; r < 5; r++)
        for (let i = 0; i < reads; i++)
          for (const row of selectPlain.all('c', i * 50) as { body: Buffer }[]) JSON.parse(row.body.toString());
    });
    const rawReadSealed = await timed('raw SELECT 50 + AES-256-GCM open + parse', reads * 5, () => {
      for (let r = 0; r < 5; r++)
        for (let i = 0; i < reads; i++)
          for (const row of selectSealed.all('c', i * 50) as { id: string; body: Buffer }[])
            JSON.parse(openText(key, row.body, `msg:${row.id}:body`));
    });
    rows.push({ what: 'encryption keeps, reads (sealed / plaintext)', ratio: rawReadSealed / rawRead, target: 0.7 });
    const storeRead = await timed('SessionStore.listMessages 50 (decrypting)', reads * 5, async () => {
      for (let r = 0; r < 5; r++) for (let i = 0; i < reads; i++) await store.listMessages(conversationId, { afterSeq: i * 50, limit: 50 });
    });
    rows.push({ what: 'session store read (store / raw sealed selects)', ratio: storeRead / rawReadSealed, target: 0.5 });

    await store.shutdown();
    await keys.close();
    plain.db.close();
    sealed.db.close();

    const LAT_N = Number(process.env.BENCH_LATENCY_N ?? 3000);
    const RATE = Number(process.env.BENCH_RATE ?? 1000);
    process.stdout.write(`\n  message → agent screen, ${LAT_N} messages paced at ${RATE}/s over 200 customers\n`);
    const show = (label: string, r: LatencyResult) =>
      process.stdout.write(
        `  ${label.padEnd(44)} p50 ${r.p50.toFixed(1).padStart(6)} ms  p99 ${r.p99.toFixed(1).padStart(6)} ms  max ${r.max.toFixed(1).padStart(6)} ms  (${r.received}/${r.sent})\n`,
      );
    const bare = await baselineLatency(LAT_N, RATE);
    show('bare socket.io push (baseline)', bare);
    const full = await huiliuLatency(LAT_N, RATE, 200);
    show('Huiliu: app channel → store → router → agent', full);
    const lost = full.sent - full.received;

    process.stdout.write('\n  ratio against the baseline of this run                target   result\n');
    for (const r of rows) {
      const ok = r.ratio >= r.target;
      process.stdout.write(
        `  ${r.what.padEnd(50)} ≥ ${(r.target * 100).toFixed(0)} %   ${(r.ratio * 100).toFixed(1).padStart(5)} % ${ok ? 'ok' : 'BELOW TARGET'}\n`,
      );
    }
    process.stdout.write(
      `  ${`message → agent p99 at ${RATE} msg/s (absolute)`.padEnd(50)} ≤ 50 ms  ${full.p99.toFixed(1).padStart(6)} ms ${full.p99 <= 50 && lost === 0 ? 'ok' : 'BELOW TARGET'}${lost ? ` (${lost} not delivered)` : ''}\n`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
