import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { fail, ok, type Result } from '../../../common/errors/codes';
import { drainOutbox, LOCAL_HISTORY_SIZE, type OutboxEnqueue, type OutboxPort } from '../../../common/ipc/local-store';
import { createTestSafeStorage } from './fake-safe-storage';
import { FIXTURE_SESSION, messageView } from './fixtures';
import { LocalStore, type LocalStoreOptions } from './store';

const MARKER = 'PLAINTEXT-MARKER-订单-7319';
const open: LocalStore[] = [];

function tempStore(o: Partial<Omit<LocalStoreOptions, 'safeStorage'>> & { safeStorage?: ReturnType<typeof createTestSafeStorage> } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'huiliu-local-'));
  const file = join(dir, 'local-store.db');
  const safeStorage = o.safeStorage ?? createTestSafeStorage();
  const store = new LocalStore({ file, safeStorage, ...o });
  open.push(store);
  return { store, dir, file, safeStorage };
}

/** Every byte of the store on disk: the database, its WAL and shared-memory files. */
function diskBytes(dir: string): Buffer {
  return Buffer.concat(readdirSync(dir).map((f) => readFileSync(join(dir, f))));
}

const reply = (n: number, conversationId = 'conv-1', customerId = 'cust-1'): Extract<OutboxEnqueue, { kind: 'reply' }> => ({
  kind: 'reply',
  clientMessageId: `cmid-${String(n).padStart(4, '0')}`,
  conversationId,
  customerId,
  payload: { sessionId: FIXTURE_SESSION, clientMessageId: `cmid-${String(n).padStart(4, '0')}`, text: `reply ${n}` },
});

afterEach(() => {
  for (const s of open.splice(0)) {
    try {
      s.close();
    } catch {
      // already closed by the test
    }
  }
});

describe('local store (Electron main, better-sqlite3, encrypted)', () => {
  it('round-trips history and drafts, and is refused before sign-in', () => {
    const { store } = tempStore();
    expect(() => store.history('conv-1')).toThrow(expect.objectContaining({ code: 'UNAUTHENTICATED' }));
    store.bindUser('agent1');
    const messages = [1, 2, 3].map((s) => messageView('conv-1', s));
    expect(store.saveHistory('conv-1', 'cust-1', messages)).toEqual({ kept: 3 });
    expect(store.history('conv-1')).toEqual(messages);
    expect(store.history('conv-other')).toEqual([]);
    store.saveDraft('conv-1', 'cust-1', '  half a reply 你好 ');
    expect(store.draft('conv-1')).toMatchObject({ text: '  half a reply 你好 ', note: false });
    // A draft typed as an internal note comes back as a note (never as a reply Enter would send).
    store.saveDraft('conv-1', 'cust-1', 'customer sounds upset, check order', true);
    expect(store.draft('conv-1')).toMatchObject({ text: 'customer sounds upset, check order', note: true });
    store.saveDraft('conv-1', 'cust-1', '');
    expect(store.draft('conv-1')).toBeNull();
  });

  it('keeps only the last 10 interactions per conversation, newest by seq, a newer copy of a seq replacing the older', () => {
    const { store } = tempStore();
    store.bindUser('agent1');
    store.saveHistory(
      'conv-1',
      'cust-1',
      [1, 2, 3, 4, 5, 6, 7, 8].map((s) => messageView('conv-1', s)),
    );
    expect(
      store.saveHistory(
        'conv-1',
        'cust-1',
        [9, 10, 11, 12, 13].map((s) => messageView('conv-1', s)),
      ),
    ).toEqual({
      kept: LOCAL_HISTORY_SIZE,
    });
    expect(store.history('conv-1').map((m) => m.seq)).toEqual([4, 5, 6, 7, 8, 9, 10, 11, 12, 13]);
    // A stale page (older seqs) does not push newer ones out.
    store.saveHistory(
      'conv-1',
      'cust-1',
      [1, 2].map((s) => messageView('conv-1', s)),
    );
    expect(store.history('conv-1').map((m) => m.seq)).toEqual([4, 5, 6, 7, 8, 9, 10, 11, 12, 13]);
    store.saveHistory('conv-1', 'cust-1', [messageView('conv-1', 13, 'with its OCR text now')]);
    expect(store.history('conv-1').at(-1)!.body).toEqual({ text: 'with its OCR text now' });
    expect(store.history('conv-1')).toHaveLength(10);
  });

  it('refuses messages of another conversation', () => {
    const { store } = tempStore();
    store.bindUser('agent1');
    expect(() => store.saveHistory('conv-1', 'cust-1', [messageView('conv-2', 1)])).toThrow(
      expect.objectContaining({ code: 'VALIDATION_FAILED' }),
    );
  });

  it('writes no plaintext content or identifier to disk, and reopens with the safeStorage-wrapped key', () => {
    const { store, dir, file, safeStorage } = tempStore();
    store.bindUser('agent-marker-user');
    store.saveHistory('conv-marker-id', 'cust-marker-id', [messageView('conv-marker-id', 1, `${MARKER} in a message`)]);
    store.saveDraft('conv-marker-id', 'cust-marker-id', `${MARKER} in a draft`);
    store.enqueue({ ...reply(1, 'conv-marker-id', 'cust-marker-id'), payload: { ...reply(1).payload, text: `${MARKER} queued` } });
    store.close();
    const bytes = diskBytes(dir);
    for (const needle of [MARKER, 'conv-marker-id', 'cust-marker-id', 'agent-marker-user', 'cmid-0001', '订单'])
      expect(bytes.includes(Buffer.from(needle, 'utf8')), needle).toBe(false);

    const again = new LocalStore({ file, safeStorage });
    open.push(again);
    expect(again.keyMode).toBe('safe-storage');
    again.bindUser('agent-marker-user');
    expect(again.history('conv-marker-id')[0]!.body).toEqual({ text: `${MARKER} in a message` });
    expect(again.draft('conv-marker-id')?.text).toBe(`${MARKER} in a draft`);
    expect(again.pending()[0]!.payload).toMatchObject({ text: `${MARKER} queued` });
    expect(safeStorage.calls).toContain('decrypt');
  });

  it('cannot be read with another keychain (another OS user): the records are dropped, not exposed', () => {
    const { store, file } = tempStore();
    store.bindUser('agent1');
    store.saveDraft('conv-1', 'cust-1', 'secret draft');
    store.close();
    const stranger = new LocalStore({ file, safeStorage: createTestSafeStorage() });
    open.push(stranger);
    stranger.bindUser('agent1');
    expect(stranger.draft('conv-1')).toBeNull();
    expect(stranger.counts()).toEqual({ history: 0, draft: 0, outbox: 0, conversation: 0 });
  });

  it('without an OS keyring keeps its key in memory only, so nothing outlives the run', () => {
    const safeStorage = createTestSafeStorage({ backend: 'basic_text' });
    const { store, file } = tempStore({ safeStorage });
    expect(store.keyMode).toBe('ephemeral');
    store.bindUser('agent1');
    store.saveDraft('conv-1', 'cust-1', 'draft');
    expect(store.draft('conv-1')?.text).toBe('draft');
    store.close();
    const next = new LocalStore({ file, safeStorage });
    open.push(next);
    next.bindUser('agent1');
    expect(next.draft('conv-1')).toBeNull();
    expect(safeStorage.calls).toEqual([]);
  });

  it("binds the AAD to the record: one conversation's sealed history copied onto another's does not open", () => {
    const { store, file } = tempStore();
    store.bindUser('agent1');
    store.saveHistory('conv-1', 'cust-1', [messageView('conv-1', 1), messageView('conv-1', 2)]);
    store.saveHistory('conv-2', 'cust-1', [messageView('conv-2', 1)]);
    const raw = new Database(file);
    const rows = raw.prepare('SELECT conv_ix, nonce, sealed FROM history').all() as { conv_ix: Buffer; nonce: Buffer; sealed: Buffer }[];
    expect(rows).toHaveLength(2);
    // Swap the two sealed records between the rows.
    const swap = raw.prepare('UPDATE history SET nonce = ?, sealed = ? WHERE conv_ix = ?');
    swap.run(rows[0]!.nonce, rows[0]!.sealed, rows[1]!.conv_ix);
    swap.run(rows[1]!.nonce, rows[1]!.sealed, rows[0]!.conv_ix);
    raw.close();
    expect(() => store.history('conv-1')).toThrow();
    expect(() => store.history('conv-2')).toThrow();
  });

  it('erases everything on sign-out and destroys the key (no old ciphertext left on disk)', () => {
    const { store, dir, file } = tempStore();
    store.bindUser('agent1');
    store.saveHistory('conv-1', 'cust-1', [messageView('conv-1', 1)]);
    store.enqueue(reply(1));
    const raw = new Database(file, { readonly: true });
    const sealed = (raw.prepare('SELECT sealed FROM history').get() as { sealed: Buffer }).sealed;
    const wrappedBefore = (raw.prepare("SELECT value FROM meta WHERE name = 'key'").get() as { value: Buffer }).value;
    raw.close();
    store.eraseAll();
    expect(() => store.pending()).toThrow(expect.objectContaining({ code: 'UNAUTHENTICATED' }));
    store.bindUser('agent1');
    expect(store.history('conv-1')).toEqual([]);
    expect(store.pending()).toEqual([]);
    store.close();
    const bytes = diskBytes(dir);
    expect(bytes.includes(sealed.subarray(0, 24))).toBe(false);
    expect(bytes.includes(wrappedBefore)).toBe(false);
  });

  it("erases another user's data when a different agent signs in on the same desk", () => {
    const { store } = tempStore();
    store.bindUser('agent1');
    store.saveDraft('conv-1', 'cust-1', 'agent1 draft');
    store.enqueue(reply(1));
    expect(store.bindUser('agent1')).toEqual({ erasedPrevious: false });
    expect(store.bindUser('agent2')).toEqual({ erasedPrevious: true });
    expect(store.draft('conv-1')).toBeNull();
    expect(store.pending()).toEqual([]);
  });

  it("erases one customer's history, drafts and unsent outbox on the server's order, and nothing else", () => {
    const { store } = tempStore();
    store.bindUser('agent1');
    store.saveHistory('conv-a', 'cust-a', [messageView('conv-a', 1)]);
    store.saveHistory('conv-a2', 'cust-a', [messageView('conv-a2', 1)]);
    store.saveHistory('conv-b', 'cust-b', [messageView('conv-b', 1)]);
    store.saveDraft('conv-a', 'cust-a', 'to A');
    store.enqueue(reply(1, 'conv-a', 'cust-a'));
    store.enqueue(reply(2, 'conv-b', 'cust-b'));
    expect(store.eraseCustomers(['cust-a', 'cust-unknown'])).toEqual({ conversations: 2, outboxDropped: 1 });
    expect(store.history('conv-a')).toEqual([]);
    expect(store.history('conv-a2')).toEqual([]);
    expect(store.draft('conv-a')).toBeNull();
    expect(store.history('conv-b')).toHaveLength(1);
    expect(store.pending().map((e) => e.conversationId)).toEqual(['conv-b']);
  });

  it('evicts the least recently touched conversations beyond the cap, but never unsent outbox entries', () => {
    let t = 0;
    const { store } = tempStore({ maxConversations: 2, now: () => ++t });
    store.bindUser('agent1');
    store.enqueue(reply(1, 'conv-1'));
    for (const c of ['conv-1', 'conv-2', 'conv-3']) store.saveHistory(c, 'cust-1', [messageView(c, 1)]);
    expect(store.history('conv-1')).toEqual([]);
    expect(store.history('conv-3')).toHaveLength(1);
    expect(store.pending()).toHaveLength(1);
  });
});

describe('outbox (critical messages kept until acked, DESIGN §7)', () => {
  const port = (store: LocalStore): OutboxPort => ({
    pending: async () => store.pending(),
    settle: async (s) => void store.settle(s),
  });

  it('queues one entry per idempotency key', () => {
    const { store } = tempStore();
    store.bindUser('agent1');
    const first = store.enqueue(reply(1));
    expect(store.enqueue(reply(1))).toEqual({ id: first.id, duplicate: true });
    expect(store.pending()).toHaveLength(1);
  });

  it('drains in enqueue order across conversations and kinds, with the same clientMessageIds, surviving a restart', async () => {
    const { store, file, safeStorage } = tempStore();
    store.bindUser('agent1');
    store.enqueue(reply(1, 'conv-1'));
    store.enqueue({
      kind: 'wrap-up',
      clientMessageId: 'wrap-up-0001',
      conversationId: 'conv-2',
      customerId: 'cust-2',
      payload: { sessionId: FIXTURE_SESSION, wrapUpCode: 'resolved', note: 'done' },
    });
    store.enqueue({
      kind: 'accept',
      clientMessageId: 'accept-0001',
      conversationId: 'conv-3',
      customerId: 'cust-3',
      payload: { sessionId: FIXTURE_SESSION },
    });
    store.enqueue(reply(2, 'conv-1'));
    store.close();

    const after = new LocalStore({ file, safeStorage });
    open.push(after);
    after.bindUser('agent1');
    const sent: [string, string][] = [];
    const report = await drainOutbox(port(after), async (e) => (sent.push([e.kind, e.clientMessageId]), ok({})));
    expect(sent).toEqual([
      ['reply', 'cmid-0001'],
      ['wrap-up', 'wrap-up-0001'],
      ['accept', 'accept-0001'],
      ['reply', 'cmid-0002'],
    ]);
    expect(report.sent).toHaveLength(4);
    expect(after.pending()).toEqual([]);
  });

  it('after a partial failure retries from the failed entry with the same key, and reports a refused one', async () => {
    const { store } = tempStore();
    store.bindUser('agent1');
    for (const n of [1, 2, 3, 4]) store.enqueue(reply(n));

    const wire: string[] = [];
    const first: Result<unknown>[] = [ok({}), fail('SESSION_CLOSED'), fail('SHUTTING_DOWN')];
    const r1 = await drainOutbox(port(store), async (e) => (wire.push(e.clientMessageId), first.shift()!));
    expect(r1.sent).toHaveLength(1);
    expect(r1.refused.map((x) => [x.entry.clientMessageId, x.code])).toEqual([['cmid-0002', 'SESSION_CLOSED']]);
    expect(r1.stoppedAt).toMatchObject({ entry: { clientMessageId: 'cmid-0003' }, code: 'SHUTTING_DOWN' });
    expect(store.pending().map((e) => [e.clientMessageId, e.attempts])).toEqual([
      ['cmid-0003', 1],
      ['cmid-0004', 0],
    ]);

    // The next reconnect: the same keys go again, oldest first; the server dedupes by clientMessageId.
    const r2 = await drainOutbox(port(store), async (e) => (wire.push(e.clientMessageId), ok({})));
    expect(r2.stoppedAt).toBeNull();
    expect(wire).toEqual(['cmid-0001', 'cmid-0002', 'cmid-0003', 'cmid-0003', 'cmid-0004']);
    expect(store.pending()).toEqual([]);
  });
});
