import { monitorEventLoopDelay } from 'node:perf_hooks';
import { afterEach, describe, expect, it } from 'vitest';
import { HuiliuError } from '../../../common/errors/codes';
import { DEFAULT_ROUTING_CONFIG } from '../../../common/routing/types';
import { scoreContact, type ContactFacts } from '../routing/score';
import type * as BrokenWorker from './__fixtures__/broken.worker';
import type * as BurnWorker from './__fixtures__/burn.worker';
import { burn } from './__fixtures__/burn.worker';
import { createCpuPool, type CpuPool, type CpuPoolOptions } from './pool';

type BurnTasks = typeof BurnWorker;
const pools: CpuPool<BurnTasks>[] = [];
/** A pool on the test worker (tasks that hold a thread for a known time), closed after each test. */
function burnPool(options: CpuPoolOptions = {}): CpuPool<BurnTasks> {
  const pool = createCpuPool<BurnTasks>({ source: 'workers/__fixtures__/burn.worker', threads: 1, ...options });
  pools.push(pool);
  return pool;
}
afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.close()));
});

/** The error code a promise rejects with, or 'resolved'. */
async function outcome(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'resolved';
  } catch (error) {
    return error instanceof HuiliuError ? error.code : `error: ${String(error)}`;
  }
}

const TASK_MS = 150;

describe('CpuPool', () => {
  it('runs the registered score task in a worker thread with the same result as scoring inline', async () => {
    const pool = createCpuPool({ threads: 1 });
    try {
      const facts: ContactFacts = {
        value: { spend: 12_000, csat: 2, contacts30d: 3 },
        difficulty: { text: '我要投诉！！订单 202311150001 还没发货，另外退款呢？', channel: 'WX', contacts30d: 3 },
        config: DEFAULT_ROUTING_CONFIG,
      };
      const scored = await pool.run('score', facts);
      expect(scored).toEqual(scoreContact(facts));
      expect(scored).toMatchObject({ tier: 'assisted', value: { score: 69.29 }, difficulty: { score: 62.2 } });
      expect(pool.stats()).toMatchObject({ threads: 1, inFlight: 0 });
    } finally {
      await pool.close();
    }
  });

  it('keeps the event loop free while a burst of CPU tasks runs (the same work inline blocks it)', async () => {
    const pool = burnPool({ threads: 1 });
    await pool.run('burn', 1); // the thread is up before measuring

    // Control: the same task on this thread delays the loop by about its duration, so the probe sees blocking.
    const inline = monitorEventLoopDelay({ resolution: 5 });
    inline.enable();
    await new Promise((r) => setTimeout(r, 20));
    burn(TASK_MS);
    await new Promise((r) => setTimeout(r, 20));
    inline.disable();
    expect(inline.max / 1e6).toBeGreaterThanOrEqual(TASK_MS * 0.9);

    const pooled = monitorEventLoopDelay({ resolution: 5 });
    pooled.enable();
    const results = await Promise.all(Array.from({ length: 6 }, () => pool.run('burn', TASK_MS)));
    pooled.disable();
    expect(results.every((loops) => loops > 0)).toBe(true);
    // Six tasks of 150 ms ran (900 ms of CPU; inline, one stall of 900 ms). Pooled, the loop kept ticking:
    // 99 % of its turns came within a third of one task, and even the worst (a descheduled moment on a
    // busy 2-core machine) within one task.
    expect(pooled.percentile(99) / 1e6).toBeLessThan(TASK_MS / 3);
    expect(pooled.max / 1e6).toBeLessThan(TASK_MS);
  });

  it('answers OVERLOADED at once when threads + queue tasks are in flight, and takes work again after', async () => {
    const pool = burnPool({ threads: 1, queue: 2 });
    await pool.run('burn', 1);
    const accepted = [pool.run('burn', 200), pool.run('burn', 1), pool.run('burn', 1)];
    expect(pool.stats()).toMatchObject({ inFlight: 3, capacity: 3 });
    const refused = pool.run('burn', 1);
    await expect(refused).rejects.toMatchObject({ code: 'OVERLOADED', details: { threads: 1, queue: 2 } });
    expect(await Promise.all(accepted.map(outcome))).toEqual(['resolved', 'resolved', 'resolved']);
    await expect(pool.run('burn', 1)).resolves.toBeGreaterThanOrEqual(0);
  });

  it('on close, lets the running task finish, rejects the waiting ones and new ones with SHUTTING_DOWN', async () => {
    const pool = burnPool({ threads: 1, queue: 5 });
    await pool.run('burn', 1);
    const running = pool.run('burn', 200);
    const waiting = [pool.run('burn', 200), pool.run('burn', 200)];
    await new Promise((r) => setTimeout(r, 20));
    const closed = pool.close();
    await expect(pool.run('burn', 1)).rejects.toMatchObject({ code: 'SHUTTING_DOWN' });
    expect(await Promise.all([running, ...waiting].map(outcome))).toEqual(['resolved', 'SHUTTING_DOWN', 'SHUTTING_DOWN']);
    await closed;
    expect(pool.stats().threads).toBe(0);
  });

  it('stops a task still running at the close timeout with SHUTTING_DOWN', async () => {
    const pool = burnPool({ threads: 1, closeTimeoutMs: 100 });
    await pool.run('burn', 1);
    const long = outcome(pool.run('burn', 10_000));
    await new Promise((r) => setTimeout(r, 20));
    const t0 = performance.now();
    await pool.close();
    expect(await long).toBe('SHUTTING_DOWN');
    expect(performance.now() - t0).toBeLessThan(5_000);
  });

  it('cancels a running task with CANCELLED when its signal aborts, stopping its thread, and takes work again after', async () => {
    const pool = burnPool({ threads: 1 });
    await pool.run('burn', 1);
    const controller = new AbortController();
    const long = outcome(pool.run('burn', 10_000, { signal: controller.signal }));
    await new Promise((r) => setTimeout(r, 20));
    controller.abort();
    expect(await long).toBe('CANCELLED');
    expect(pool.stats().inFlight).toBe(0);
    expect(await outcome(pool.run('burn', 1))).toBe('resolved');
    // An already aborted signal never starts the task.
    expect(await outcome(pool.run('burn', 1, { signal: AbortSignal.abort() }))).toBe('CANCELLED');
  });

  it("passes a task's own error through", async () => {
    const pool = burnPool();
    await expect(pool.run('fail', 'bad input shape')).rejects.toThrow('bad input shape');
    expect(pool.stats().inFlight).toBe(0);
  });

  it('fails the waiting tasks with INTERNAL when the worker cannot start, instead of leaving them waiting', async () => {
    const pool = createCpuPool<typeof BrokenWorker>({ source: 'workers/__fixtures__/broken.worker', threads: 1 });
    try {
      const tasks = [pool.run('echo', 1), pool.run('echo', 2)].map(outcome);
      expect(await Promise.all(tasks)).toEqual(['INTERNAL', 'INTERNAL']);
      expect(pool.stats().inFlight).toBe(0);
      expect(await outcome(pool.run('echo', 3))).toBe('INTERNAL');
    } finally {
      await pool.close();
    }
  });

  it('refuses a size that cannot work', () => {
    expect(() => createCpuPool({ threads: 0 })).toThrow(RangeError);
    expect(() => createCpuPool({ queue: -1 })).toThrow(RangeError);
  });
});
