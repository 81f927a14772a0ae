import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import { HuiliuError } from '../../../common/errors/codes';
import type { Logger } from '../logging/logger';
import { workerEntry } from '../runtime/worker-entry';
import type * as CpuWorker from './cpu.worker';

/** A worker module's tasks: each named export takes one structured-cloneable input. */
export type TaskModule<W> = { [K in keyof W]: (input: never) => unknown };
/** The tasks of `workers/cpu.worker.ts`, the pool's default worker. */
export type CpuTasks = typeof CpuWorker;
type Input<F> = F extends (input: infer I) => unknown ? I : never;
type Output<F> = F extends (...args: never[]) => infer R ? Awaited<R> : never;

export interface CpuPoolOptions {
  /** Worker threads at most; default max(1, cores − 1), so one core stays with the event loop. Started on demand. */
  threads?: number;
  /** Tasks that may wait for a free thread; one more fails with `OVERLOADED`. Default 256. */
  queue?: number;
  /** A thread idle this long exits (ms); default 30 000. */
  idleTimeoutMs?: number;
  /** On `close()`, running tasks get this long to finish before their threads are stopped (ms); default 5 000. */
  closeTimeoutMs?: number;
  /** The worker's source under server/src without extension (`runtime/worker-entry.ts`); default `workers/cpu.worker`. */
  source?: string;
  /** Where a pool-level failure (a thread that died outside a task, a close that timed out) is reported. */
  logger?: Logger;
}

/** Occupancy of the pool at one moment. */
export interface CpuPoolStats {
  /** Threads alive now (0 when idle long enough). */
  threads: number;
  /** Tasks accepted and not settled: running plus waiting. */
  inFlight: number;
  /** `threads + queue` from the options: the most tasks in flight before `OVERLOADED`. */
  capacity: number;
}

/**
 * A bounded pool of worker threads for CPU-heavy work that is not on the ack path (AI inference,
 * OCR, re-scoring): the socket thread hands a task over and awaits its result, so a burst of such
 * work never delays heartbeats or acks.
 */
export interface CpuPool<W extends TaskModule<W> = CpuTasks> {
  /**
   * Runs the worker's export `task` on `input` (structured clone both ways) on a free thread, or
   * after the tasks before it. Rejects with `HuiliuError('OVERLOADED')` at once when `threads + queue`
   * tasks are already in flight, with `HuiliuError('SHUTTING_DOWN')` once `close()` was called (for a
   * task that was still waiting, or still running at the close timeout), with `HuiliuError('CANCELLED')`
   * when `options.signal` aborts (a running task's thread is stopped), else with the task's own error.
   */
  run<K extends keyof W & string>(task: K, input: Input<W[K]>, options?: { signal?: AbortSignal }): Promise<Output<W[K]>>;
  stats(): CpuPoolStats;
  /**
   * Refuses new tasks, rejects the waiting ones with `SHUTTING_DOWN`, lets running ones finish for
   * up to `closeTimeoutMs`, then stops every thread. Idempotent.
   */
  close(): Promise<void>;
}

/** Creates the pool; no thread starts before the first task. See `CpuPoolOptions` for the defaults. */
export function createCpuPool<W extends TaskModule<W> = CpuTasks>(options: CpuPoolOptions = {}): CpuPool<W> {
  const threads = options.threads ?? Math.max(1, availableParallelism() - 1);
  const queue = options.queue ?? 256;
  if (!Number.isInteger(threads) || threads < 1) throw new RangeError(`CpuPool threads must be an integer ≥ 1, got ${threads}`);
  if (!Number.isInteger(queue) || queue < 0) throw new RangeError(`CpuPool queue must be an integer ≥ 0, got ${queue}`);
  const capacity = threads + queue;
  const entry = workerEntry(options.source ?? 'workers/cpu.worker');
  const piscina = new Piscina({
    filename: entry.filename,
    execArgv: entry.execArgv,
    minThreads: 0,
    maxThreads: threads,
    idleTimeout: options.idleTimeoutMs ?? 30_000,
    // The bound is enforced below, before Piscina; its own limit is only a backstop.
    maxQueue: capacity,
    closeTimeout: options.closeTimeoutMs ?? 5_000,
  });
  /** Each task accepted and not settled: how to fail it, and how to take it out of Piscina's queue. */
  const inFlight = new Set<{ reject: (error: Error) => void; abort: AbortController }>();
  let closing: Promise<void> | null = null;

  piscina.on('error', (error: unknown) => {
    options.logger?.warn({ err: error }, 'cpu pool: a worker thread failed');
    // A thread that fails while starting (its module does not load) is not replaced, so the tasks
    // waiting for it would wait forever: they fail now and leave the queue. The next task tries a new thread.
    if (piscina.threads.length > 0) return;
    const failed = new HuiliuError('INTERNAL', 'A CPU worker thread could not start.', {
      reason: error instanceof Error ? error.message : String(error),
    });
    const stuck = [...inFlight];
    inFlight.clear();
    for (const task of stuck) {
      task.reject(failed);
      task.abort.abort(failed);
    }
  });

  /** Piscina's own rejections while closing: a waiting task dropped, or a running one stopped at the timeout. */
  const closedByPool = (error: unknown) =>
    error instanceof Error && (error.name === 'AbortError' || error.message === 'Terminating worker thread');

  return {
    async run(task, input, options = {}) {
      if (closing) throw new HuiliuError('SHUTTING_DOWN', 'The CPU pool is closed.');
      if (options.signal?.aborted) throw new HuiliuError('CANCELLED');
      if (inFlight.size >= capacity) {
        throw new HuiliuError('OVERLOADED', `The CPU pool is full: ${threads} task(s) running and ${queue} waiting.`, {
          threads,
          queue,
        });
      }
      return new Promise<Output<W[typeof task]>>((resolve, reject) => {
        const entry = { reject, abort: new AbortController() };
        inFlight.add(entry);
        const cancelled = () => entry.abort.abort(new HuiliuError('CANCELLED'));
        options.signal?.addEventListener('abort', cancelled, { once: true });
        piscina.run(input, { name: task, signal: entry.abort.signal }).then(
          (result: Output<W[typeof task]>) => {
            inFlight.delete(entry);
            options.signal?.removeEventListener('abort', cancelled);
            resolve(result);
          },
          (error: unknown) => {
            inFlight.delete(entry);
            options.signal?.removeEventListener('abort', cancelled);
            if (options.signal?.aborted) reject(new HuiliuError('CANCELLED'));
            else
              reject(
                closing && closedByPool(error) ? new HuiliuError('SHUTTING_DOWN', 'The CPU pool closed before this task finished.') : error,
              );
          },
        );
      });
    },
    stats() {
      return { threads: piscina.threads.length, inFlight: inFlight.size, capacity };
    },
    close() {
      closing ??= piscina.close({ force: true });
      return closing;
    },
  };
}
