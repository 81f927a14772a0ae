import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { createLocalKeyProvider } from '../../src/keys/provider.local';
import { createSqliteSessionStore } from '../../src/sessions/store.sqlite';
import { crashDraft } from './writer-crash.draft';

/**
 * Kill -9 while the session writer thread is mid-batch (issue 8): every acked message survives, no
 * batch is half-applied (each conversation's seq runs 1..n with no gap and matches its counter), and
 * the store opens and goes on writing.
 */
const CHILD = join(import.meta.dirname, 'writer-crash.child.ts');

interface Acked {
  acked: string;
  seq: number;
  conversationId: string;
}

function runUntilKilled(dir: string, mode: 'hold' | 'free'): Promise<{ acked: Acked[]; held: number | null }> {
  return new Promise((resolve, reject) => {
    const child = fork(CHILD, [dir, mode], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const acked: Acked[] = [];
    let held: number | null = null;
    child.on('message', (m: Partial<Acked> & { ready?: true; held?: number; done?: true }) => {
      if (m.acked) acked.push(m as Acked);
      if (m.held !== undefined) {
        held = m.held;
        child.kill('SIGKILL');
      }
      // Free-running: kill at an arbitrary point once writes are flowing.
      if (mode === 'free' && acked.length === 500) child.kill('SIGKILL');
      if (m.done) reject(new Error('the child finished before it was killed'));
    });
    child.on('error', reject);
    child.on('exit', (_code, signal) => {
      if (signal === 'SIGKILL') resolve({ acked, held });
      else reject(new Error(`child exited without being killed (${String(_code)})`));
    });
  });
}

function checkDatabase(path: string, acked: Acked[]) {
  const db = new Database(path, { readonly: true });
  try {
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    const stored = new Map(
      (
        db.prepare('SELECT client_message_id, seq, conversation_id FROM messages').all() as {
          client_message_id: string;
          seq: number;
          conversation_id: string;
        }[]
      ).map((r) => [r.client_message_id, r]),
    );
    for (const a of acked) expect(stored.get(a.acked)).toMatchObject({ seq: a.seq, conversation_id: a.conversationId });
    const conversations = db.prepare('SELECT id, last_seq FROM conversations').all() as { id: string; last_seq: number }[];
    for (const c of conversations) {
      const seqs = (db.prepare('SELECT seq FROM messages WHERE conversation_id = ? ORDER BY seq').all(c.id) as { seq: number }[]).map(
        (r) => r.seq,
      );
      expect(seqs).toEqual(Array.from({ length: c.last_seq }, (_, i) => i + 1));
    }
    return stored.size;
  } finally {
    db.close();
  }
}

describe('session writer thread killed mid-batch', () => {
  let dir: string;
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps every acked message and no part of the batch it was writing', { timeout: 60_000 }, async () => {
    dir = mkdtempSync(join(tmpdir(), 'huiliu-crash-'));
    const { acked, held } = await runUntilKilled(dir, 'hold');
    expect(held).toBeGreaterThan(0);
    expect(acked.length).toBeGreaterThan(0);
    const stored = checkDatabase(join(dir, 'huiliu.db'), acked);
    // The held batch (its writes done, COMMIT not reached) is gone entirely: nothing of it was acked.
    expect(stored).toBeLessThan(4 * 400);

    // Reopened, the store goes on: resending every message is idempotent and fills the gaps in order.
    const keys = createLocalKeyProvider(join(dir, 'keys'));
    const store = await createSqliteSessionStore({ path: join(dir, 'huiliu.db'), keys });
    try {
      const before = new Map(acked.map((a) => [a.acked, a.seq]));
      for (let customer = 0; customer < 4; customer++) {
        for (let n = 0; n < 400; n++) {
          const r = await store.appendInbound(crashDraft(customer, n), { skillGroup: 'general' });
          if (before.has(r.envelope.clientMessageId)) {
            expect(r.duplicate).toBe(true);
            expect(r.envelope.seq).toBe(before.get(r.envelope.clientMessageId));
          }
        }
      }
    } finally {
      await store.shutdown();
      await keys.close();
    }
    expect(checkDatabase(join(dir, 'huiliu.db'), acked)).toBe(4 * 400);
  });

  it('keeps every acked message when killed at an arbitrary point of a free-running load', { timeout: 60_000 }, async () => {
    dir = mkdtempSync(join(tmpdir(), 'huiliu-crash-'));
    const { acked } = await runUntilKilled(dir, 'free');
    expect(acked.length).toBeGreaterThanOrEqual(500);
    expect(checkDatabase(join(dir, 'huiliu.db'), acked)).toBeGreaterThanOrEqual(acked.length);
  });
});
