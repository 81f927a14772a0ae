import type { Worker } from 'node:worker_threads';
import { HuiliuError } from '../../../common/errors/codes';
import { startWorker } from '../runtime/worker-entry';
import { SESSION_WRITE_OPS, type OnSealed, type SessionWriteOp, type SessionWriter } from './writer';
import type { FromWriter, ToWriter, WriteCall, WriterWorkerData } from './writer.protocol';

export interface WorkerWriterOptions extends WriterWorkerData {
  /** The worker died or failed to start (logged by the caller); pending writes were answered NOT_READY. */
  onError?: (error: Error) => void;
  /** Test hook: the worker held a batch open (see `holdBatchAfterJobs`). */
  onHeld?: (jobs: number) => void;
  /** Each message row the worker sealed and its payload (write-through), before the replies they came with resolve. */
  onSealed?: OnSealed;
}

interface Pending {
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/** The main-thread side of the session writer: `SessionWriter` calls sent to the writer worker. */
export interface WorkerSessionWriter extends SessionWriter {
  /** True while a writer thread is up; false while one is being restarted (writes answer NOT_READY). */
  healthy(): boolean;
  /** Commits what is queued, closes the worker's connection and stops the thread. */
  shutdown(): Promise<void>;
}

const RETRY_FIRST_MS = 500;
const RETRY_MAX_MS = 30_000;
const STOPPED = () => new HuiliuError('NOT_READY', 'The session writer restarted; the write was not confirmed, retry it.');

/**
 * Starts the writer worker (`writer.worker.ts`) and resolves once it has opened the database.
 * Calls made in one turn of the event loop go to the worker as one message; each resolves with the
 * worker's answer after its batch is on disk, or rejects with the worker's error (same code). If the
 * worker dies, the writes in flight reject NOT_READY (503: a client retries with the same
 * clientMessageId, which is idempotent) and a new worker is started; until it is up, new writes are
 * answered NOT_READY at once (never left waiting), and a failed start is retried with backoff
 * (0.5 s doubling to 30 s).
 */
export async function startWorkerSessionWriter(options: WorkerWriterOptions): Promise<WorkerSessionWriter> {
  const { onError, onHeld, onSealed, ...data } = options;
  if (onSealed) data.sealedBack = true;
  const pending = new Map<number, Pending>();
  let nextId = 1;
  let outbox: WriteCall[] = [];
  let worker!: Worker;
  /** `up`: a thread answers; `down`: none (restarting); `stopped`: shut down. */
  let state: 'up' | 'down' | 'stopped' = 'down';
  let exited: Promise<void> = Promise.resolve();
  let retryMs = RETRY_FIRST_MS;
  let retryTimer: NodeJS.Timeout | undefined;
  /** The start of the current thread while it is under way (a restart), else null. */
  let starting: Promise<void> | null = null;

  const settleAll = (error: Error) => {
    outbox = [];
    for (const p of pending.values()) p.reject(error);
    pending.clear();
  };

  // Injected faults apply to the first thread only: the restarted one runs clean.
  let workerData: WriterWorkerData = data;
  function spawn(): Promise<void> {
    const thread = startWorker('sessions/writer.worker', { workerData });
    worker = thread;
    workerData = { ...data, holdBatchAfterJobs: undefined, exitAfterJobs: undefined };
    thread.unref();
    exited = new Promise((resolve) => thread.once('exit', () => resolve()));
    const start = new Promise<void>((resolve, reject) => {
      let started = false;
      thread.on('message', (message: FromWriter) => {
        switch (message.t) {
          case 'ready':
            started = true;
            // Shut down while it started: `shutdown` stops it (it must not come up unowned).
            if (state !== 'stopped') state = 'up';
            resolve();
            return;
          case 'replies':
            // A Buffer crosses the thread as a Uint8Array.
            for (const { row, payload } of message.sealed ?? [])
              onSealed?.(
                { ...row, payload_ct: Buffer.from(row.payload_ct.buffer, row.payload_ct.byteOffset, row.payload_ct.byteLength) },
                payload,
              );
            for (const r of message.replies) {
              const p = pending.get(r.id);
              if (!p) continue;
              pending.delete(r.id);
              if (r.ok) p.resolve(r.value);
              else p.reject(new HuiliuError(r.error.code, r.error.message, r.error.details));
            }
            if (pending.size === 0) thread.unref();
            return;
          case 'held':
            onHeld?.(message.jobs);
            return;
          case 'failed':
            if (!started) reject(new Error(`session writer failed to start: ${message.message}`));
            else onError?.(new Error(message.message));
            return;
        }
      });
      thread.on('error', (error) => {
        if (!started) reject(error);
        else onError?.(error);
      });
      thread.on('exit', (code) => {
        if (state !== 'stopped') state = 'down';
        settleAll(STOPPED());
        if (!started) {
          reject(new Error(`session writer exited with code ${code} before it was ready`));
          return;
        }
        if (state === 'stopped') return;
        onError?.(new Error(`session writer exited with code ${code}; restarting it`));
        restart();
      });
    });
    starting = start;
    const done = () => {
      if (starting === start) starting = null;
    };
    start.then(done, done);
    return start;
  }

  /** Starts a new thread; a failed start is retried with backoff, and writes meanwhile answer NOT_READY. */
  function restart(): void {
    if (state === 'stopped') return;
    spawn().then(
      () => {
        retryMs = RETRY_FIRST_MS;
      },
      (error: Error) => {
        onError?.(error);
        if (state === 'stopped') return;
        retryTimer = setTimeout(restart, retryMs);
        retryTimer.unref();
        retryMs = Math.min(retryMs * 2, RETRY_MAX_MS);
      },
    );
  }

  function flush(): void {
    if (outbox.length === 0) return;
    const calls = outbox;
    outbox = [];
    // The thread died between the call and this turn: its exit answered them NOT_READY already.
    if (state !== 'up') return;
    worker.postMessage({ t: 'calls', calls } satisfies ToWriter);
  }

  function call(op: SessionWriteOp, args: unknown[]): Promise<never> {
    if (state === 'stopped') return Promise.reject(new HuiliuError('NOT_READY', 'The session store is shutting down.'));
    if (state === 'down') return Promise.reject(STOPPED());
    return new Promise((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      if (pending.size === 1) worker.ref();
      if (outbox.length === 0) setImmediate(flush);
      outbox.push({ id, op, args });
    });
  }

  await spawn();

  const writer = Object.fromEntries(
    SESSION_WRITE_OPS.map((op) => [op, (...args: unknown[]) => call(op, args)]),
  ) as unknown as SessionWriter;
  return {
    ...writer,
    healthy: () => state === 'up',
    async shutdown() {
      if (state === 'stopped') return;
      clearTimeout(retryTimer);
      const wasUp = state === 'up';
      // Calls queued in this turn still go out before the shutdown message.
      flush();
      state = 'stopped';
      if (!wasUp) {
        // A thread being started (a restart under way) is stopped as well, once it is up. Left running it
        // kept the database open and its key provider's session: the main thread's key provider then
        // closed (PKCS#11: C_Finalize) while that thread was in the module (review6).
        if (!starting) return;
        const ready = await starting.then(
          () => true,
          () => false,
        );
        if (!ready) {
          await exited;
          return;
        }
      }
      worker.ref();
      // Settled by the thread's exit (after it committed what was queued and closed the database).
      worker.postMessage({ t: 'shutdown' } satisfies ToWriter);
      await exited;
    },
  };
}
