import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Cluster } from 'ioredis';
import pg from 'pg';
import { v7 as uuidv7 } from 'uuid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Envelope } from '../../../common/message/envelope';
import { useRedisCluster, type RedisClusterHandle } from '../../test/support/redis-cluster';
import { createLocalKeyProvider } from '../keys/provider.local';
import type { KeyProvider } from '../keys/provider';
import type { SessionArchive } from './archive';
import { createPgSessionArchive } from './archive.pg';
import { createArchiver, pruneExpiredArchive, sweepUnarchived } from './archiver';
import { nextSessionId } from './conversations.contract';
import { createRedisConversationStore, type RedisConversationStore } from './conversations.redis';
import type { SessionRecord } from './store';

/**
 * Issue 14, redis mode's archive side on a real 6-node Redis Cluster and the machine's PostgreSQL (a
 * database of its own per run): closed sessions archived then trimmed from Redis, history read back
 * from the archive, appends after a trim continue gap-free (also racing the trim), retention in both
 * stores, and the sweep at start.
 */
const PG_ADMIN_URL = process.env['HUILIU_PG_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
const PG_DB = `huiliu_arch_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
const PG_URL = (() => {
  const u = new URL(PG_ADMIN_URL);
  u.pathname = `/${PG_DB}`;
  return u.toString();
})();
const SCHEMA = 'huiliu_archive';
const textOf = (m: Envelope) => (m.kind === 'text' ? (m.body as { text: string }).text : '');
const text = (t: string) => ({ kind: 'text' as const, body: { text: t } });

let cluster: RedisClusterHandle;
let redis: Cluster;
let archive: SessionArchive;
let sql: pg.Pool;
let keys: KeyProvider;
const dir = mkdtempSync(join(tmpdir(), 'huiliu-arch-'));
const prefix = `ar-${randomUUID().slice(0, 8)}`;
const stores: RedisConversationStore[] = [];

/** A store of this file's cluster and prefix, reading trimmed history from the archive (one per "process"). */
async function openStore(options: { withArchive?: boolean } = {}): Promise<RedisConversationStore> {
  const store = await createRedisConversationStore({
    redis,
    keys,
    prefix,
    ...(options.withArchive === false ? {} : { archive }),
  });
  stores.push(store);
  return store;
}

beforeAll(async () => {
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${PG_DB}`);
  await admin.end();
  cluster = await useRedisCluster();
  redis = new Cluster(cluster.seeds, { redisOptions: { maxRetriesPerRequest: 3 }, slotsRefreshTimeout: 2000 });
  keys = createLocalKeyProvider(join(dir, 'keys'));
  archive = await createPgSessionArchive({ url: PG_URL, schema: SCHEMA });
  sql = new pg.Pool({ connectionString: PG_URL, max: 2, options: `-c search_path=${SCHEMA}` });
}, 120_000);
afterAll(async () => {
  for (const s of stores) await s.shutdown();
  redis?.disconnect();
  await archive?.close();
  await sql?.end();
  await cluster?.stop();
  await keys?.close();
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${PG_DB} WITH (FORCE)`);
  await admin.end();
  rmSync(dir, { recursive: true, force: true });
});

/** Opens a session in `conversationId` (new or existing), appends `texts` (customer, then agent alternately). */
async function session(store: RedisConversationStore, conversationId: string, customerId: string, texts: string[], tag = '') {
  const sessionId = nextSessionId();
  await store.openSession({ sessionId, conversationId, customerId, channel: 'WB', skillGroup: 'general' });
  const seqs: number[] = [];
  for (const [i, t] of texts.entries()) {
    const { envelope } = await store.append({
      sessionId,
      direction: i % 2 === 0 ? 'in' : 'out',
      content: text(t),
      clientMessageId: `${tag}${sessionId}-${i}`,
      critical: false,
    });
    seqs.push(envelope.seq);
  }
  return { sessionId, seqs };
}

/** Claims and closes the session in the port (as the mirror does), answering the closed state. */
async function closeIn(store: RedisConversationStore, sessionId: string): Promise<SessionRecord> {
  await store.claim(sessionId, 'agent-1');
  return store.close(sessionId, 'agent-1', 'resolved');
}

/** The messages list of a conversation, as Redis holds it now (raw elements). */
async function rawList(store: RedisConversationStore, conversationId: string): Promise<Buffer[]> {
  const tag = await redis.get(store.layout.conversationTag(conversationId));
  return redis.lrangeBuffer(store.layout.messages(tag!, conversationId), 0, -1);
}

describe('archive of closed sessions: trim from Redis, read back from PostgreSQL', () => {
  it('reads a trimmed conversation from the archive byte for byte, and a customer writing again continues at the next seq', async () => {
    const store = await openStore();
    const marker = `TRIMMARK-${randomUUID()}`;
    const conversationId = uuidv7();
    const customerId = uuidv7();
    const first = await session(
      store,
      conversationId,
      customerId,
      [1, 2, 3, 4, 5].map((i) => `m${i} ${marker}`),
    );
    expect(first.seqs).toEqual([1, 2, 3, 4, 5]);
    const sealedBefore = await store.sealedRecords(conversationId);
    const closed = await closeIn(store, first.sessionId);

    const errors: unknown[] = [];
    const archiver = createArchiver({ source: store, archive, onError: (e) => errors.push(e), retryMs: [50] });
    archiver.closed(closed);
    await archiver.idle();
    expect(errors).toEqual([]);
    expect(archiver.counts).toMatchObject({ archived: 1, trimmed: 1, failed: 0 });

    // Redis let go of the archived records; the archive holds exactly the bytes Redis held.
    expect(await rawList(store, conversationId)).toEqual([]);
    expect(await store.trimmedThrough(conversationId)).toBe(5);
    expect((await archive.records(conversationId)).map((r) => [r.seq, r.record.toString('hex')])).toEqual(
      sealedBefore.map((r) => [r.seq, r.record.toString('hex')]),
    );

    // History still reads, on this store and on a fresh one (another process: no cached records).
    const other = await openStore();
    for (const s of [store, other]) {
      expect((await s.listMessages(conversationId)).map((m) => [m.seq, textOf(m)])).toEqual(
        [1, 2, 3, 4, 5].map((i) => [i, `m${i} ${marker}`]),
      );
      expect(await s.lastSeq(conversationId)).toBe(5);
      expect((await s.lastMessage(conversationId))?.seq).toBe(5);
      const newest = await s.recentMessages(conversationId, { limit: 3 });
      expect([newest.messages.map((m) => m.seq), newest.hasOlder]).toEqual([[3, 4, 5], true]);
      const older = await s.recentMessages(conversationId, { beforeSeq: 3, limit: 3 });
      expect([older.messages.map((m) => m.seq), older.hasOlder]).toEqual([[1, 2], false]);
    }
    expect(other.recordCacheStats().misses).toBeGreaterThan(0);

    // The customer writes again: a new session in the same conversation, seq 6 on; history spans both stores.
    const second = await session(other, conversationId, customerId, ['back again', 'welcome back']);
    expect(second.seqs).toEqual([6, 7]);
    expect((await store.listMessages(conversationId, { afterSeq: 3, limit: 3 })).map((m) => m.seq)).toEqual([4, 5, 6]);
    expect((await store.recentMessages(conversationId, { limit: 4 })).messages.map(textOf)).toEqual([
      `m4 ${marker}`,
      `m5 ${marker}`,
      'back again',
      'welcome back',
    ]);
    expect((await rawList(store, conversationId)).length).toBe(2);

    // A retry of a message now only in the archive answers the stored one (same seq, same id).
    const original = (await store.listMessages(conversationId, { limit: 2 }))[1]!;
    const retry = await store.append({
      sessionId: second.sessionId,
      direction: 'out',
      content: text(`m2 ${marker}`),
      clientMessageId: `${first.sessionId}-1`,
      critical: false,
    });
    expect([retry.duplicate, retry.envelope.seq, retry.envelope.id]).toEqual([true, 2, original.id]);

    // The second session closes: its records are archived and trimmed too; numbering goes on from 7.
    archiver.closed(await closeIn(other, second.sessionId));
    await archiver.idle();
    expect(await store.trimmedThrough(conversationId)).toBe(7);
    expect((await store.listMessages(conversationId)).map((m) => m.seq)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    const third = await session(store, conversationId, customerId, ['third time']);
    expect(third.seqs).toEqual([8]);

    // No plaintext in PostgreSQL: pg_dump of the archive has no marker, while a plaintext control row is found.
    const dump = () =>
      execFileSync('pg_dump', ['--data-only', `--schema=${SCHEMA}`, PG_URL], { maxBuffer: 256 * 1024 * 1024 }).toString('utf8');
    const before = dump();
    expect(before.includes(conversationId)).toBe(true); // this run's rows are in the dump
    expect(before.includes(marker)).toBe(false);
    await sql.query('CREATE TABLE plaintext_control (t text)');
    await sql.query('INSERT INTO plaintext_control VALUES ($1)', [marker]);
    expect(dump().includes(marker)).toBe(true);
    await sql.query('DROP TABLE plaintext_control');
  }, 60_000);

  it('answers TamperError for an archived record changed in PostgreSQL and CUSTOMER_ERASED after the customer’s erasure', async () => {
    const store = await openStore();
    const conversationId = uuidv7();
    const customerId = uuidv7();
    const s = await session(store, conversationId, customerId, ['one', 'two', 'three']);
    const archiver = createArchiver({ source: store, archive, retryMs: [50] });
    archiver.closed(await closeIn(store, s.sessionId));
    await archiver.idle();
    expect(await rawList(store, conversationId)).toEqual([]);
    expect((await (await openStore()).listMessages(conversationId)).map(textOf)).toEqual(['one', 'two', 'three']);

    // One ciphertext byte flipped in the archive: a fresh reader and the warm one (its cache misses) refuse the page.
    const { rows } = await sql.query<{ record: Buffer }>('SELECT record FROM archived_messages WHERE conversation_id = $1 AND seq = 2', [
      conversationId,
    ]);
    const flipped = Buffer.from(rows[0]!.record);
    flipped[flipped.length - 1]! ^= 0x01;
    await sql.query('UPDATE archived_messages SET record = $2 WHERE conversation_id = $1 AND seq = 2', [conversationId, flipped]);
    await expect((await openStore()).listMessages(conversationId)).rejects.toMatchObject({ name: 'TamperError' });
    await expect(store.listMessages(conversationId)).rejects.toMatchObject({ name: 'TamperError' });
    // Another message id in the header (the AAD binds the payload to it): refused too.
    const header = rows[0]!.record;
    const n = header.readUInt16BE(1);
    const h = JSON.parse(header.subarray(3, 3 + n).toString('utf8')) as { id: string };
    const swapped = Buffer.from(header.toString('latin1').replace(h.id, uuidv7()), 'latin1');
    await sql.query('UPDATE archived_messages SET record = $2 WHERE conversation_id = $1 AND seq = 2', [conversationId, swapped]);
    await expect((await openStore()).listMessages(conversationId)).rejects.toMatchObject({ name: 'TamperError' });
    await sql.query('UPDATE archived_messages SET record = $2 WHERE conversation_id = $1 AND seq = 2', [conversationId, header]);
    expect((await store.listMessages(conversationId)).map(textOf)).toEqual(['one', 'two', 'three']);

    // Crypto-erasure: the archived records stay, sealed, and no store can open them.
    await store.eraseCustomers([customerId]);
    for (const reader of [store, await openStore()]) {
      await expect(reader.listMessages(conversationId)).rejects.toMatchObject({ code: 'CUSTOMER_ERASED' });
      await expect(reader.recentMessages(conversationId)).rejects.toMatchObject({ code: 'CUSTOMER_ERASED' });
    }
    expect(await archive.records(conversationId)).toHaveLength(3);
  }, 60_000);

  it('keeps the records in Redis while a session of the conversation is open, and trims at its close', async () => {
    const store = await openStore();
    const conversationId = uuidv7();
    const customerId = uuidv7();
    const a = await session(store, conversationId, customerId, ['a1', 'a2']);
    // A second channel joins the conversation while the first is still open (issue 12 channel switch).
    const b = await session(store, conversationId, customerId, ['b1']);
    const archiver = createArchiver({ source: store, archive, retryMs: [50] });
    archiver.closed(await closeIn(store, a.sessionId));
    await archiver.idle();
    expect(archiver.counts).toMatchObject({ archived: 1, trimmed: 0, keptOpen: 1 });
    expect(await rawList(store, conversationId)).toHaveLength(3);
    expect(await archive.archivedSeq(conversationId)).toBe(3);
    // A trim asked for directly refuses too.
    const last = (await archive.records(conversationId)).at(-1)!;
    expect(await store.trimArchived(conversationId, 3, last)).toBe('open');
    // A record that is not the archive's is never trimmed (byte check).
    archiver.closed(await closeIn(store, b.sessionId));
    await archiver.idle();
    expect(archiver.counts.trimmed).toBe(1);
    expect(await store.trimmedThrough(conversationId)).toBe(3);
    expect(await store.trimArchived(conversationId, 3, last)).toBe('done');

    const c = await session(store, conversationId, customerId, ['c1']);
    const wrong = { ...last, seq: 4, record: Buffer.from('not the stored record') };
    const closedC = await closeIn(store, c.sessionId);
    expect(await store.trimArchived(conversationId, 4, wrong)).toBe('changed');
    expect(await store.trimArchived(conversationId, 9, undefined)).toBe('short');
    expect(await rawList(store, conversationId)).toHaveLength(1);
    archiver.closed(closedC);
    await archiver.idle();
    expect((await store.listMessages(conversationId)).map(textOf)).toEqual(['a1', 'a2', 'b1', 'c1']);
  }, 60_000);

  it('keeps seq gap-free when customers write again while the archiver trims (two processes racing)', async () => {
    const trimmer = await openStore();
    const writer = await openStore();
    const archiver = createArchiver({ source: trimmer, archive, retryMs: [50] });
    const conversationId = uuidv7();
    const customerId = uuidv7();
    let expected = 0;
    const outcomes = new Map<string, number>();
    for (let round = 0; round < 12; round++) {
      const s = await session(writer, conversationId, customerId, ['x', 'y'], `r${round}-`);
      expected += 2;
      expect(s.seqs).toEqual([expected - 1, expected]);
      const closed = await closeIn(writer, s.sessionId);
      // Archive the session without trimming, then race the trim against the customer's next message.
      const copier = createArchiver({
        source: { sealedRecords: (c, o) => trimmer.sealedRecords(c, o), lastSeq: (c) => trimmer.lastSeq(c) },
        archive,
      });
      copier.closed(closed);
      await copier.idle();
      expect(await archive.archivedSeq(conversationId)).toBe(expected);
      // The trim starts 0–50 ms after the customer's message (an open then an append): both orders, and races between.
      const delay = [0, 1, 3, 6, 10, 50][round % 6]!;
      const [outcome, next] = await Promise.all([
        new Promise((r) => setTimeout(r, delay)).then(() => trimmer.trimArchived(conversationId, expected)),
        session(writer, conversationId, customerId, ['z'], `q${round}-`),
      ]);
      outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
      expected += 1;
      expect(next.seqs).toEqual([expected]);
      archiver.closed(await closeIn(writer, next.sessionId));
      await archiver.idle();
    }
    // Both orders happened; either way every seq is there exactly once, in order, and readable.
    expect([...outcomes.keys()].sort()).toEqual(['open', 'trimmed']);
    const all = await (await openStore()).listMessages(conversationId, { limit: 1000 });
    expect(all.map((m) => m.seq)).toEqual(Array.from({ length: expected }, (_, i) => i + 1));
    expect(new Set(all.map((m) => m.id)).size).toBe(expected);
    expect(await trimmer.trimmedThrough(conversationId)).toBe(expected);
  }, 120_000);

  it('retention removes expired sessions’ records from the archive and from Redis, keeping later seqs and other sessions', async () => {
    const store = await openStore();
    const conversationId = uuidv7();
    const customerId = uuidv7();
    const archiver = createArchiver({ source: store, archive, retryMs: [50] });
    // Session 1: archived and trimmed. Session 2: archived but kept in Redis (session 3 was open then).
    const s1 = await session(store, conversationId, customerId, ['old-1', 'old-2'], 'ret-');
    archiver.closed(await closeIn(store, s1.sessionId));
    await archiver.idle();
    const s2 = await session(store, conversationId, customerId, ['mid-1', 'mid-2'], 'ret-');
    await store.putContext(s2.sessionId, { issue: { status: 'refund-requested' } });
    expect(await store.getContext(s2.sessionId)).toEqual({ issue: { status: 'refund-requested' } });
    const s3 = await session(store, conversationId, customerId, ['new-1'], 'ret-');
    archiver.closed(await closeIn(store, s2.sessionId));
    await archiver.idle();
    expect(await store.trimmedThrough(conversationId)).toBe(2);
    expect(await rawList(store, conversationId)).toHaveLength(3);

    // The retention cut-off is after sessions 1 and 2 closed; session 3 is still open (never selected).
    const report = await pruneExpiredArchive({ archive, hot: store }, 'general', new Date(Date.now() + 1000).toISOString());
    expect(report.sessions).toBeGreaterThanOrEqual(2); // earlier tests' sessions of this group too
    // s1's and s2's archived records are deleted; seq 5 (s3's, copied when s2 closed) stays.
    expect((await archive.records(conversationId)).map((r) => [r.seq, r.sessionId])).toEqual([[5, s3.sessionId]]);
    expect((await rawList(store, conversationId)).map((r) => r.length === 0)).toEqual([true, true, false]);
    expect(await store.getContext(s2.sessionId)).toBeNull();
    for (const reader of [store, await openStore()]) {
      expect((await reader.listMessages(conversationId)).map((m) => [m.seq, textOf(m)])).toEqual([[5, 'new-1']]);
      expect((await reader.recentMessages(conversationId, { limit: 2 })).messages.map((m) => m.seq)).toEqual([5]);
    }
    const { rows } = await sql.query<{ session_id: string; pruned: boolean }>(
      'SELECT session_id, pruned_at IS NOT NULL AS pruned FROM archived_sessions WHERE conversation_id = $1 ORDER BY session_id',
      [conversationId],
    );
    expect(rows).toEqual([s1.sessionId, s2.sessionId].sort().map((id) => ({ session_id: id, pruned: true })));
    // A second run finds nothing more; the numbering goes on after the removed records.
    expect(await pruneExpiredArchive({ archive, hot: store }, 'general', new Date(Date.now() + 1000).toISOString())).toEqual({
      sessions: 0,
      archivedMessages: 0,
      hotMessages: 0,
    });
    expect(
      (
        await store.append({
          sessionId: s3.sessionId,
          direction: 'out',
          content: text('after'),
          clientMessageId: 'ret-after',
          critical: false,
        })
      ).envelope.seq,
    ).toBe(6);
    // s3 closes: archived from seq 5 (the removed seqs are not copied back), then trimmed.
    archiver.closed(await closeIn(store, s3.sessionId));
    await archiver.idle();
    expect((await archive.records(conversationId)).map((r) => r.seq)).toEqual([5, 6]);
    expect(await store.trimmedThrough(conversationId)).toBe(6);
    expect((await store.listMessages(conversationId)).map(textOf)).toEqual(['new-1', 'after']);
    // An open session is never pruned.
    const s4 = await session(store, conversationId, customerId, ['open'], 'ret-');
    await expect(store.pruneSession(s4.sessionId)).rejects.toMatchObject({ code: 'SESSION_NOT_CLOSED' });
  }, 60_000);

  it('queues at start the closed sessions the archive is missing, once', async () => {
    const store = await openStore();
    const customerId = uuidv7();
    const closed: SessionRecord[] = [];
    for (let i = 0; i < 3; i++) {
      const s = await session(store, uuidv7(), customerId, [`sweep ${i}`]);
      closed.push(await closeIn(store, s.sessionId));
    }
    // One of them was archived before the stop; the other two were closed while no archiver ran.
    const before = createArchiver({ source: store, archive, retryMs: [50] });
    before.closed(closed[0]!);
    await before.idle();
    const archiver = createArchiver({ source: store, archive, retryMs: [50] });
    const ghost: SessionRecord = { ...closed[0]!, id: nextSessionId(), conversationId: uuidv7() };
    const sessions = { listSessions: async () => [...closed, ghost] };
    const swept = await sweepUnarchived({ sessions, archive, archiver, skillGroups: ['general'] });
    // Two of this store's sessions plus the one the source of truth has but Redis never saw.
    expect(swept).toEqual({ queued: 3, truncated: false });
    await archiver.idle();
    expect(archiver.counts.archived).toBe(3);
    const archived = await archive.archived(closed.map((s) => s.id));
    expect(closed.every((s) => archived.has(s.id))).toBe(true);
    for (const s of closed) expect((await store.listMessages(s.conversationId)).map(textOf)).toHaveLength(1);
    expect(await sweepUnarchived({ sessions, archive, archiver, skillGroups: ['general'] })).toEqual({ queued: 0, truncated: false });
  }, 60_000);

  it('answers NOT_READY for trimmed history when no archive is attached', async () => {
    const store = await openStore();
    const conversationId = uuidv7();
    const s = await session(store, conversationId, uuidv7(), ['kept?']);
    const archiver = createArchiver({ source: store, archive, retryMs: [50] });
    archiver.closed(await closeIn(store, s.sessionId));
    await archiver.idle();
    const blind = await openStore({ withArchive: false });
    await expect(blind.listMessages(conversationId)).rejects.toMatchObject({ code: 'NOT_READY' });
    blind.useArchive(archive);
    expect((await blind.listMessages(conversationId)).map(textOf)).toEqual(['kept?']);
  }, 60_000);
});
