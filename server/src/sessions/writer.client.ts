import type { Worker } from 'node:worker_threads';
import { HuiliuError } from '../../../common/errors/codes';
import { startWorker } from '../runtime/worker-entry';
import { SESSION_WRITE_OPS, type SessionWriteOp, type SessionWriter } from './writer';
import type { FromWriter, ToWriter, WriteCall, WriterWorkerData } from './writer.protocol';

export interface WorkerWriterOptions extends WriterWorkerData {
  /** The worker died or failed to start (logged by the caller); pending writes were answered NOT_READY. */
  onError?: (error: Error) => void;
  /** Test hook: the worker held a batch open (see `holdBatchAfterJobs`). */
  onHeld?: (jobs: number) => void;
}

interface Pending {
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/** The main-thread side of the session writer: `SessionWriter` calls sent to the writer worker. */
export interface WorkerSessionWriter extends SessionWriter {
  /** Commits what is queued, closes the worker's connection and stops the thread. */
  shutdown(): Promise<void>;
}

const STOPPED = () => new HuiliuError('NOT_READY', 'The session writer restarted; the write was not confirmed, retry it.');

/**
 * Starts the writer worker (`writer.worker.ts`) and resolves once it has opened the database.
 * Calls made in one turn of the event loop go to the worker as one message; each resolves with the
 * worker's answer after its batch is on disk, or rejects with the worker's error (same code). If the
 * worker dies, the writes in flight reject NOT_READY (503: a client retries with the same
 * clientMessageId, which is idempotent) and a new worker is started.
 */
export async function startWorkerSessionWriter(options: WorkerWriterOptions): Promise<WorkerSessionWriter> {
  const { onError, onHeld, ...data } = options;
  const pending = new Map<number, Pending>();
  let nextId = 1;
  let outbox: WriteCall[] = [];
  let worker!: Worker;
  let ready!: Promise<void>;
  let stopping = false;

  const send = (message: ToWriter) => worker.postMessage(message);
  const settleAll = (error: Error) => {
    for (const p of pending.values()) p.reject(error);
    pending.clear();
  };

  // Injected faults apply to the first thread only: the restarted one runs clean.
  let workerData: WriterWorkerData = data;
  function spawn(): Promise<void> {
    worker = startWorker('sessions/writer.worker', { workerData });
    workerData = { ...data, holdBatchAfterJobs: undefined, exitAfterJobs: undefined };
    worker.unref();
    return new Promise<void>((resolve, reject) => {
      let started = false;
      worker.on('message', (message: FromWriter) => {
        switch (message.t) {
          case 'ready':
            started = true;
            resolve();
            return;
          case 'replies':
            for (const r of message.replies) {
              const p = pending.get(r.id);
              if (!p) continue;
              pending.delete(r.id);
              if (r.ok) p.resolve(r.value);
              else p.reject(new HuiliuError(r.error.code, r.error.message, r.error.details));
            }
            if (pending.size === 0) worker.unref();
            return;
          case 'held':
            onHeld?.(message.jobs);
            return;
          case 'closed':
            return;
          case 'failed':
            if (!started) reject(new Error(`session writer failed to start: ${message.message}`));
            else onError?.(new Error(message.message));
            return;
        }
      });
      worker.on('error', (error) => {
        if (!started) reject(error);
        else onError?.(error);
      });
      worker.on('exit', (code) => {
        settleAll(STOPPED());
        if (!started) {
          reject(new Error(`session writer exited with code ${code} before it was ready`));
          return;
        }
        if (stopping) return;
        onError?.(new Error(`session writer exited with code ${code}; restarting it`));
        ready = spawn();
        ready.then(flush, (error: Error) => {
          onError?.(error);
          settleAll(STOPPED());
        });
      });
    });
  }

  function flush(): void {
    if (outbox.length === 0) return;
    const calls = outbox;
    outbox = [];
    send({ t: 'calls', calls });
  }

  function call(op: SessionWriteOp, args: unknown[]): Promise<never> {
    if (stopping) return Promise.reject(new HuiliuError('NOT_READY', 'The session store is shutting down.'));
    return new Promise((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      if (pending.size === 1) worker.ref();
      if (outbox.length === 0) setImmediate(() => void ready.then(flush, () => undefined));
      outbox.push({ id, op, args });
    });
  }

  ready = spawn();
  await ready;

  const writer = Object.fromEntries(
    SESSION_WRITE_OPS.map((op) => [op, (...args: unknown[]) => call(op, args)]),
  ) as unknown as SessionWriter;
  return {
    ...writer,
    async shutdown() {
      if (stopping) return;
      await ready.catch(() => undefined);
      // Calls queued in this turn still go out before the shutdown message.
      flush();
      stopping = true;
      worker.ref();
      // Settled by the thread's exit (after it closed the database), not by its 'closed' message: the
      // thread is gone when this resolves.
      await new Promise<void>((resolve) => {
        worker.once('exit', () => resolve());
        send({ t: 'shutdown' });
      });
    },
  };
}
