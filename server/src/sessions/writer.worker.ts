/**
 * The session writer's worker thread (issue 8): owns the SQLite write connection, runs the store's
 * writes in group commits (one transaction per batch; one WAL fsync covers every batch committed
 * before it started) and answers the main thread only after the batch is on disk, so neither the
 * writes nor the fsync block the sockets' event loop.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { HuiliuError, type ErrorInfo } from '../../../common/errors/codes';
import { GroupCommit } from '../db/group-commit';
import { openDatabase } from '../db/sqlite';
import { WalSync } from '../db/wal-sync';
import { openKeyProvider } from '../keys/open';
import type { MessageRow } from './sqlite-rows';
import { openSessionWriter } from './writer';
import type { FromWriter, SealedMessage, ToWriter, WriteCall, WriteReply, WriterWorkerData } from './writer.protocol';

const port = parentPort!;
const data = workerData as WriterWorkerData;
const post = (message: FromWriter) => port.postMessage(message);

/** A write's error as it crosses the thread: a HuiliuError keeps its code, anything else is INTERNAL. */
function errorInfo(error: unknown): ErrorInfo {
  if (error instanceof HuiliuError) return error.toInfo();
  return { code: 'INTERNAL', message: error instanceof Error ? error.message : String(error) };
}

async function main(): Promise<void> {
  // Commits append to the WAL without fsync; WalSync fsyncs it off this thread before any answer.
  const db = openDatabase(data.path, { synchronous: 'NORMAL' });
  const wal = new WalSync(`${data.path}-wal`);
  const keys = openKeyProvider(data.keys);
  let committedJobs = 0;
  const hold = data.holdBatchAfterJobs;
  const commit = new GroupCommit(db, 256, {
    beforeCommit: (jobs) => {
      if (hold !== undefined && committedJobs >= hold) {
        post({ t: 'held', jobs });
        // Blocks this thread inside the open transaction until the process is killed.
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
      }
    },
    // A failed WAL sync is fail-stop: this thread exits without answering, the main thread answers the
    // writes in flight NOT_READY and starts a new thread over a freshly opened database.
    durable: () =>
      wal.durable().catch((error: unknown) => {
        post({ t: 'failed', message: `WAL sync failed: ${error instanceof Error ? error.message : String(error)}` });
        process.exit(1);
      }),
    // This thread only writes: an idle writer syncs here instead of on libuv's pool (two thread hops
    // fewer for a write that arrives alone); while a sync runs, batches go on and the next sync covers them.
    durableNow: () => wal.syncNowIfIdle(),
    afterCommit: (jobs) => {
      committedJobs += jobs;
      // Committed but not answered: the main thread must answer NOT_READY, and a retry must find it stored.
      if (data.exitAfterJobs !== undefined && committedJobs >= data.exitAfterJobs) process.exit(1);
    },
  });
  /**
   * Rows sealed since the last replies went: they travel with the next replies, which follow their
   * batch's commit (a later batch's rows may ride along before its commit: never read if it rolls back).
   */
  let sealed: SealedMessage[] = [];
  const clock = data.clock;
  const { writer } = await openSessionWriter({
    db,
    keys,
    commit,
    continuityMs: data.continuityMs,
    now: clock ? () => clock[0]! : Date.now,
    // An exact-size copy of the sealed bytes: a Buffer is often a view into Node's 8 KiB allocation pool,
    // and a structured clone copies the view's whole ArrayBuffer (the cache would then hold 8 KiB a message).
    ...(data.sealedBack
      ? {
          onSealed: (row: MessageRow, payload: string) =>
            sealed.push({ row: { ...row, payload_ct: Buffer.from(new Uint8Array(row.payload_ct).buffer) }, payload }),
        }
      : {}),
  });

  // Replies of one turn travel in one message: a batch of 200 acks costs one postMessage.
  let outbox: WriteReply[] = [];
  const reply = (r: WriteReply) => {
    if (outbox.length === 0) setImmediate(flushReplies);
    outbox.push(r);
  };
  function flushReplies() {
    const replies = outbox;
    outbox = [];
    if (sealed.length === 0) return post({ t: 'replies', replies });
    const rows = sealed;
    sealed = [];
    post({ t: 'replies', replies, sealed: rows });
  }
  const run = (call: WriteCall) => {
    const fn = writer[call.op] as (...args: unknown[]) => Promise<unknown>;
    fn(...call.args).then(
      (value) => reply({ id: call.id, ok: true, value }),
      (error: unknown) => reply({ id: call.id, ok: false, error: errorInfo(error) }),
    );
  };

  port.on('message', (message: ToWriter) => {
    if (message.t === 'calls') {
      for (const call of message.calls) run(call);
      return;
    }
    // Shutdown: the writes already queued commit first, then the connection closes.
    void commit
      .run(() => undefined)
      .then(async () => {
        await wal.close();
        if (outbox.length) flushReplies();
        db.close();
        await keys.close();
        port.close();
      });
  });
  post({ t: 'ready' });
}

main().catch((error: unknown) => {
  post({ t: 'failed', message: error instanceof Error ? error.message : String(error) });
  process.exit(1);
});
