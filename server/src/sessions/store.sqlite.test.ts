import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { createLocalKeyProvider } from '../keys/provider.local';
import { until } from '../../test/support/until';
import { draft, sessionStoreContract } from './store.contract';
import { createSqliteSessionStore } from './store.sqlite';
import { startWorkerSessionWriter } from './writer.client';

async function harness(random?: () => number) {
  const dir = mkdtempSync(join(tmpdir(), 'huiliu-store-'));
  let clock = Date.now();
  const keys = createLocalKeyProvider(join(dir, 'keys'));
  const store = await createSqliteSessionStore({
    path: join(dir, 'huiliu.db'),
    keys,
    now: () => clock,
    ...(random ? { random } : {}),
  });
  return {
    dir,
    store,
    advance: (ms: number) => void (clock += ms),
    cleanup: async () => {
      await store.shutdown();
      await keys.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The production shape: writes in the writer worker thread, reads here; the clock is shared memory. */
async function workerHarness() {
  const dir = mkdtempSync(join(tmpdir(), 'huiliu-store-'));
  const clock = new Float64Array(new SharedArrayBuffer(8));
  clock[0] = Date.now();
  const keys = createLocalKeyProvider(join(dir, 'keys'));
  const store = await createSqliteSessionStore({ path: join(dir, 'huiliu.db'), keys, clock, writer: 'worker' });
  return {
    dir,
    store,
    advance: (ms: number) => void (clock[0]! += ms),
    cleanup: async () => {
      await store.shutdown();
      await keys.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

sessionStoreContract('sqlite, inline writer', () => harness());
sessionStoreContract('sqlite, writer thread', () => workerHarness());

describe('sqlite session store', () => {
  it('retries when a minted session ID collides with an existing one', async () => {
    // The random source repeats 424: the first draw for the second session collides (same clock).
    const draws = [424, 424, 425];
    const h = await harness(() => draws.shift() ?? 426);
    const a = await h.store.appendInbound(draft({ identity: { channel: 'WB', externalId: 'c-1' } }), { skillGroup: 'general' });
    const b = await h.store.appendInbound(draft({ identity: { channel: 'WB', externalId: 'c-2' } }), { skillGroup: 'general' });
    expect(a.session.id.endsWith('00424')).toBe(true);
    expect(b.session.id.endsWith('00425')).toBe(true);
    expect(b.session.id.slice(0, 15)).toBe(a.session.id.slice(0, 15));
    await h.cleanup();
  });

  it('keeps no plaintext of message text, names or external ids on disk', async () => {
    const h = await harness();
    const marker = `PLAINTEXT-MARKER-${Date.now()}-订单号`;
    await h.store.appendInbound(
      draft({ text: `hello ${marker}`, identity: { channel: 'AP', externalId: `ext-${marker}`, displayName: `name-${marker}` } }),
      { skillGroup: 'general' },
    );
    // Force the WAL into the main file too, then search every byte of the data dir.
    const db = new Database(join(h.dir, 'huiliu.db'));
    db.pragma('wal_checkpoint(TRUNCATE)');
    db.close();
    const needle = Buffer.from(marker, 'utf8');
    const files = readdirSync(h.dir, { recursive: true, withFileTypes: true }).filter((f) => f.isFile());
    expect(files.length).toBeGreaterThan(1);
    for (const f of files) {
      const path = join(f.parentPath, f.name);
      expect(readFileSync(path).includes(needle), path).toBe(false);
    }
    // And the same with grep, as an operator would check: exit status 1 means "no match".
    const grep = spawnSync('grep', ['-rl', '--binary-files=text', 'PLAINTEXT-MARKER', h.dir], { encoding: 'utf8' });
    expect(grep.stdout).toBe('');
    expect(grep.status).toBe(1);
    await h.cleanup();
  });

  it("keeps no plaintext of a customer's imported facts or rating comment on disk", async () => {
    const h = await harness();
    const marker = `FACTS-MARKER-${Date.now()}`;
    const spend = 987_654_321.5;
    const r = await h.store.appendInbound(draft({ identity: { channel: 'WB', externalId: 'facts-at-rest' } }), { skillGroup: 'general' });
    await h.store.putCustomerFacts([{ customerId: r.envelope.customerId, spend, source: 'import' }]);
    await h.store.claim(r.session.id, 'agent-a');
    await h.store.close(r.session.id, 'agent-a', 'resolved');
    await h.store.rateSession({ sessionId: r.session.id, customerId: r.envelope.customerId, score: 2, comment: `slow ${marker}` });
    const db = new Database(join(h.dir, 'huiliu.db'));
    db.pragma('wal_checkpoint(TRUNCATE)');
    db.close();
    const grep = spawnSync('grep', ['-rlE', '--binary-files=text', `FACTS-MARKER|${String(spend)}`, h.dir], { encoding: 'utf8' });
    expect(grep.stdout).toBe('');
    expect(grep.status).toBe(1);
    expect((await h.store.customerFacts(r.envelope.customerId))?.spend?.value).toBe(spend);
    await h.cleanup();
  });

  it("forgets an erased customer's opened messages held in memory, and only theirs", async () => {
    const h = await harness();
    const a = await h.store.appendInbound(draft({ text: 'first customer' }), { skillGroup: 'general' });
    const b = await h.store.appendInbound(draft({ text: 'second customer', identity: { channel: 'WB', externalId: 'visitor-2' } }), {
      skillGroup: 'general',
    });
    expect(a.envelope.customerId).not.toBe(b.envelope.customerId);
    await h.store.listMessages(a.session.conversationId);
    await h.store.listMessages(b.session.conversationId);
    expect(h.store.forgetCached([a.envelope.customerId])).toBe(1);
    expect(h.store.forgetCached([a.envelope.customerId])).toBe(0);
    expect(h.store.forgetCached([b.envelope.customerId])).toBe(1);
    await h.cleanup();
  });

  it('detects a tampered message row instead of returning altered text', async () => {
    const h = await harness();
    const r = await h.store.appendInbound(draft({ text: 'pay 10 yuan' }), { skillGroup: 'general' });
    // Read once first: the opened payload is cached, and the cache must not hide the change.
    expect((await h.store.listMessages(r.session.conversationId))[0]!.body).toEqual({ text: 'pay 10 yuan' });
    const db = new Database(join(h.dir, 'huiliu.db'));
    const row = db.prepare('SELECT payload_ct FROM messages WHERE id = ?').get(r.envelope.id) as { payload_ct: Buffer };
    const altered = Buffer.from(row.payload_ct);
    altered[altered.length - 2] = altered[altered.length - 2]! ^ 0x01;
    db.prepare('UPDATE messages SET payload_ct = ? WHERE id = ?').run(altered, r.envelope.id);
    db.close();
    await expect(h.store.listMessages(r.session.conversationId)).rejects.toThrow(/integrity/);
    await h.cleanup();
  });
});

describe('sqlite session store, write-through of sealed messages to the opened cache', () => {
  for (const [label, make] of [
    ['writer thread', workerHarness],
    ['inline writer', () => harness()],
  ] as const) {
    it(`${label}: the first read of a message this store wrote opens nothing`, async () => {
      const h = await make();
      try {
        const stats = () => h.store.openedCacheStats!();
        const first = await h.store.appendInbound(draft({ text: 'first' }), { skillGroup: 'general' });
        const conversation = first.envelope.conversationId;
        // A new customer: this thread loads their key (the writer thread: after the reply; inline: held already).
        await until(() => stats().bytes > 0);
        await h.store.appendInbound(draft({ text: 'second' }), { skillGroup: 'general' });
        await h.store.appendOutbound({
          sessionId: first.session.id,
          content: { kind: 'text', body: { text: 'reply' } },
          clientMessageId: 'reply-1',
          critical: true,
          authorId: null,
        });
        const read = await h.store.listMessages(conversation);
        expect(read.map((m) => (m.body as { text: string }).text)).toEqual(['first', 'second', 'reply']);
        expect(stats()).toMatchObject({ hits: 3, misses: 0 });
        // The cached payload is the stored one: the same envelopes as a cold read by a second store on the file.
        const coldKeys = createLocalKeyProvider(join(h.dir, 'keys'));
        const cold = await createSqliteSessionStore({ path: join(h.dir, 'huiliu.db'), keys: coldKeys, writer: 'inline' });
        try {
          expect(await cold.listMessages(conversation)).toEqual(read);
          expect(cold.openedCacheStats!()).toMatchObject({ misses: 3 });
        } finally {
          await cold.shutdown();
          await coldKeys.close();
        }
        // Erasure drops them like any opened payload.
        expect(h.store.forgetCached([first.session.customerId])).toBe(3);
      } finally {
        await h.cleanup();
      }
    });
  }
});

describe('session writer thread: sealed rows handed back for the write-through', () => {
  it('carries each sealed payload as an exact-size copy, not the 8 KiB allocation pool it was cut from', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'huiliu-store-'));
    const keys = createLocalKeyProvider(join(dir, 'keys'));
    // The main thread migrates the file; the writer thread then writes to it.
    await (await createSqliteSessionStore({ path: join(dir, 'huiliu.db'), keys, writer: 'inline' })).shutdown();
    const rows: { bytes: number; backing: number; payload: string }[] = [];
    const writer = await startWorkerSessionWriter({
      path: join(dir, 'huiliu.db'),
      keys: keys.spec,
      continuityMs: 60_000,
      onSealed: (row, payload) => rows.push({ bytes: row.payload_ct.length, backing: row.payload_ct.buffer.byteLength, payload }),
    });
    try {
      await writer.appendInbound(draft({ text: 'pooled?' }), { skillGroup: 'general' });
      expect(rows).toHaveLength(1);
      expect(JSON.parse(rows[0]!.payload)).toMatchObject({ body: { text: 'pooled?' } });
      // A structured clone copies a view's whole ArrayBuffer: the pool's 8,192 bytes for a ~100-byte record.
      expect(rows[0]!.backing).toBe(rows[0]!.bytes);
    } finally {
      await writer.shutdown();
      await keys.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('sqlite session store, writer thread dies', () => {
  it('answers the writes in flight NOT_READY, restarts the thread, and a retry finds each committed write stored', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'huiliu-store-'));
    const keys = createLocalKeyProvider(join(dir, 'keys'));
    const errors: Error[] = [];
    // Jobs: the index key, then the customer's first message (key, customer row, message) = 4; the
    // thread dies right after the next commit, before it answers.
    const store = await createSqliteSessionStore({
      path: join(dir, 'huiliu.db'),
      keys,
      writer: 'worker',
      exitWriterAfterJobs: 5,
      onWriterError: (e) => errors.push(e),
    });
    try {
      const identity = { channel: 'WB' as const, externalId: 'dies' };
      await store.appendInbound(draft({ identity, clientMessageId: 'm-first' }), { skillGroup: 'general' });
      const drafts = Array.from({ length: 12 }, (_, i) => draft({ identity, clientMessageId: `m-${i}` }));
      const first = await Promise.allSettled(drafts.map((d) => store.appendInbound(d, { skillGroup: 'general' })));
      expect(first.every((o) => o.status === 'rejected')).toBe(true);
      for (const o of first) expect(((o as PromiseRejectedResult).reason as { code?: string }).code).toBe('NOT_READY');
      expect(errors.map((e) => e.message).join()).toMatch(/exited with code 1; restarting/);
      // The restarted thread (ready again: readiness says so) takes the retries; what the dead one
      // committed comes back as a duplicate.
      await until(async () =>
        store.ping().then(
          () => true,
          () => false,
        ),
      );
      const retried = await Promise.all(drafts.map((d) => store.appendInbound(d, { skillGroup: 'general' })));
      expect(retried.filter((r) => r.duplicate).length).toBeGreaterThan(0);
      expect(retried.map((r) => r.envelope.seq).sort((a, b) => a - b)).toEqual(Array.from({ length: 12 }, (_, i) => i + 2));
    } finally {
      await store.shutdown();
      await keys.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('sqlite session store, shut down while its writer thread restarts', () => {
  it('stops the thread being started too: nothing keeps the database (or a PKCS#11 session) open after shutdown (review6)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'huiliu-store-'));
    const keys = createLocalKeyProvider(join(dir, 'keys'));
    const path = join(dir, 'huiliu.db');
    const errors: string[] = [];
    const store = await createSqliteSessionStore({
      path,
      keys,
      writer: 'worker',
      exitWriterAfterJobs: 5,
      onWriterError: (e) => errors.push(e.message),
    });
    try {
      const identity = { channel: 'WB' as const, externalId: 'stops' };
      await store.appendInbound(draft({ identity }), { skillGroup: 'general' });
      await expect(store.appendInbound(draft({ identity }), { skillGroup: 'general' })).rejects.toMatchObject({ code: 'NOT_READY' });
      await until(() => errors.some((m) => /restarting/.test(m)));
      // The process stops while the new thread is starting (it opens the file and the key provider).
      await store.shutdown();
      // Give a thread left running the time to come up.
      await new Promise((resolve) => setTimeout(resolve, 1500));
      // Every connection closed: SQLite removed the WAL with the last one.
      expect(existsSync(`${path}-wal`)).toBe(false);
    } finally {
      await keys.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('sqlite session store, writer thread cannot restart', () => {
  it('answers writes NOT_READY at once and fails readiness while it retries, then recovers', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'huiliu-store-'));
    const keysDir = join(dir, 'keys');
    const keys = createLocalKeyProvider(keysDir);
    const errors: string[] = [];
    let broken = false;
    const store = await createSqliteSessionStore({
      path: join(dir, 'huiliu.db'),
      keys,
      writer: 'worker',
      exitWriterAfterJobs: 5,
      onWriterError: (e) => {
        errors.push(e.message);
        // The first thread died: take its key file away, so the next one cannot unwrap the data keys.
        if (!broken) {
          broken = true;
          renameSync(keysDir, `${keysDir}.away`);
        }
      },
    });
    try {
      const identity = { channel: 'WB' as const, externalId: 'restart' };
      await store.appendInbound(draft({ identity }), { skillGroup: 'general' });
      await expect(store.appendInbound(draft({ identity }), { skillGroup: 'general' })).rejects.toMatchObject({ code: 'NOT_READY' });
      await until(() => errors.some((m) => /failed to start/.test(m)));
      const t0 = Date.now();
      await expect(store.appendInbound(draft({ identity }), { skillGroup: 'general' })).rejects.toMatchObject({ code: 'NOT_READY' });
      expect(Date.now() - t0).toBeLessThan(1000); // answered, not left waiting
      await expect(store.ping()).rejects.toMatchObject({ code: 'NOT_READY' });
      // The key file is back: a retry brings a thread up and writes go through again.
      rmSync(keysDir, { recursive: true, force: true });
      renameSync(`${keysDir}.away`, keysDir);
      await until(
        async () =>
          store.ping().then(
            () => true,
            () => false,
          ),
        10_000,
      );
      expect((await store.appendInbound(draft({ identity }), { skillGroup: 'general' })).envelope.seq).toBeGreaterThan(1);
    } finally {
      await store.shutdown();
      await keys.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);
});

describe('transfers on one database shared by two servers', () => {
  it('lets exactly one of two servers accept a warm transfer, and both then read the same outcome', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'huiliu-store-'));
    const keys = createLocalKeyProvider(join(dir, 'keys'));
    const path = join(dir, 'huiliu.db');
    // Two processes' stores: each its own reader connection and writer thread.
    const a = await createSqliteSessionStore({ path, keys });
    const b = await createSqliteSessionStore({ path, keys });
    try {
      const rounds = 8;
      for (let i = 0; i < rounds; i++) {
        const r = await a.appendInbound(draft({ identity: { channel: 'WB', externalId: `two-servers-${i}` } }), { skillGroup: 'general' });
        await a.claim(r.session.id, 'agent-a');
        const decision = {
          valueScore: 0,
          difficultyScore: 0,
          priority: 0,
          tier: 'assisted' as const,
          configVersion: 1,
          weights: { value: 0.6, difficulty: 0.4 },
          thresholds: { expert: 80, assisted: 50 },
          skillGroup: 'general',
          reasons: [],
          offeredTo: 'agent-b',
          assignment: 'warm transfer',
          decidedAt: new Date().toISOString(),
          trigger: 'transferred' as const,
          transfer: { from: 'agent-a', to: 'agent-b', mode: 'warm' as const },
        };
        const { transfer } = await a.startTransfer({
          sessionId: r.session.id,
          fromAgentId: 'agent-a',
          mode: 'warm',
          target: { kind: 'agent', agentId: 'agent-b' },
          skillGroup: 'general',
          decision,
          offer: { agentId: 'agent-b', expiresAt: new Date(Date.now() + 60_000).toISOString() },
        });
        // The receiving agent double-clicks Accept on two servers at once; the sender cancels on one.
        const outcomes = await Promise.all([
          a.decideTransfer(transfer.id, { outcome: 'accepted', by: 'agent-b' }),
          b.decideTransfer(transfer.id, { outcome: 'accepted', by: 'agent-b' }),
          b.decideTransfer(transfer.id, { outcome: 'cancelled', by: 'agent-a' }),
        ]);
        expect(outcomes.filter((o) => o.changed)).toHaveLength(1);
        const [onA, onB] = await Promise.all([a.getTransfer(transfer.id), b.getTransfer(transfer.id)]);
        expect(onA).toEqual(onB);
        const session = (await b.getSession(r.session.id))!;
        expect(session.assignedAgentId).toBe(onA!.status === 'accepted' ? 'agent-b' : 'agent-a');
      }
      const accepted = (await a.listSessions({ assignedAgentId: 'agent-b', status: ['active'] })).length;
      expect(await b.activeChatCount('agent-b')).toBe(accepted);
      expect(accepted + (await a.activeChatCount('agent-a'))).toBe(rounds);
    } finally {
      await a.shutdown();
      await b.shutdown();
      await keys.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);
});
