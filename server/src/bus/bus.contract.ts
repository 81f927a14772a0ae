import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Bus, BusOptions } from './bus';
import { until } from '../../test/support/until';

const changed = (n: number) => ({ sessionId: `WB${String(n).padStart(18, '0')}`, status: 'queued', agentId: null });

/** The Bus contract: every adapter (in-process, Redis Streams) runs this same suite. */
export function busContract(name: string, factory: (options: BusOptions) => Promise<Bus>): void {
  describe(`Bus contract: ${name}`, () => {
    let bus: Bus;
    const dead: unknown[] = [];
    beforeEach(async () => {
      dead.length = 0;
      bus = await factory({ maxAttempts: 3, retryDelayMs: 5, onDeadLetter: (_t, _g, p) => dead.push(p) });
    });
    afterEach(async () => {
      await bus.close();
    });

    it('delivers to every group, in publish order', async () => {
      const a: string[] = [];
      const b: string[] = [];
      await bus.subscribe('session.changed', 'router', (p) => void a.push(p.sessionId));
      await bus.subscribe('session.changed', 'agents', (p) => void b.push(p.sessionId));
      for (let i = 0; i < 100; i++) await bus.publish('session.changed', changed(i));
      await until(() => a.length === 100 && b.length === 100);
      const expected = Array.from({ length: 100 }, (_, i) => changed(i).sessionId);
      expect(a).toEqual(expected);
      expect(b).toEqual(expected);
    });

    it('hands each message to one consumer of a group', async () => {
      const seen: string[] = [];
      const one: string[] = [];
      const two: string[] = [];
      await bus.subscribe('session.changed', 'workers', (p) => void (one.push(p.sessionId), seen.push(p.sessionId)));
      await bus.subscribe('session.changed', 'workers', (p) => void (two.push(p.sessionId), seen.push(p.sessionId)));
      for (let i = 0; i < 20; i++) await bus.publish('session.changed', changed(i));
      await until(() => seen.length === 20);
      expect(new Set(seen).size).toBe(20);
      expect(one.length).toBeGreaterThan(0);
      expect(two.length).toBeGreaterThan(0);
    });

    it('retries a failing handler and then moves on', async () => {
      let attempts = 0;
      const ok: string[] = [];
      await bus.subscribe('session.changed', 'flaky', (p) => {
        if (p.sessionId === changed(1).sessionId && ++attempts < 2) throw new Error('transient');
        if (p.sessionId === changed(2).sessionId) throw new Error('always fails');
        ok.push(p.sessionId);
      });
      for (const i of [1, 2, 3]) await bus.publish('session.changed', changed(i));
      await until(() => ok.length === 2 && dead.length === 1);
      expect(attempts).toBe(2);
      expect(ok).toEqual([changed(1).sessionId, changed(3).sessionId]);
    });

    it('keeps one group going when another group fails', async () => {
      const good: string[] = [];
      await bus.subscribe('session.changed', 'broken', () => {
        throw new Error('down');
      });
      await bus.subscribe('session.changed', 'healthy', (p) => void good.push(p.sessionId));
      await bus.publish('session.changed', changed(7));
      await until(() => good.length === 1 && dead.length === 1);
      expect(good).toEqual([changed(7).sessionId]);
    });

    it('stops delivering after unsubscribe', async () => {
      const got: string[] = [];
      const sub = await bus.subscribe('session.changed', 'g', (p) => void got.push(p.sessionId));
      await bus.publish('session.changed', changed(1));
      await until(() => got.length === 1);
      await sub.unsubscribe();
      await bus.publish('session.changed', changed(2));
      await new Promise((r) => setTimeout(r, 50));
      expect(got).toEqual([changed(1).sessionId]);
    });

    it('finishes in-flight deliveries on close and refuses new publishes', async () => {
      const got: string[] = [];
      await bus.subscribe('session.changed', 'slow', async (p) => {
        await new Promise((r) => setTimeout(r, 20));
        got.push(p.sessionId);
      });
      await bus.publish('session.changed', changed(1));
      await bus.close();
      expect(got).toEqual([changed(1).sessionId]);
      await expect(bus.publish('session.changed', changed(2))).rejects.toThrow();
    });
  });
}
