import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { EventOf } from '../../../common/events/events';
import type { Bus, BusOptions } from './bus';
import { newEvent, onceById } from './events';
import { until } from '../../test/support/until';

/**
 * Bus nodes on one backend: what several server processes share (one Redis; one in-process broker).
 * Every `node` is a separate `Bus` as one server process would hold it.
 */
export interface BusCluster {
  node(options: BusOptions): Promise<Bus>;
  /** Frees the backend (drop the test's streams, …) after every node is closed. */
  close?(): Promise<void>;
}

const CUSTOMER = '01a217af-518a-76c9-b3e0-cc994d61d475';
const CONVERSATION = '01a217af-518a-76c9-b3e0-cc994d61d476';
const sessionId = (n: number) => `WB${String(n).padStart(18, '0')}`;
const changed = (n: number): EventOf<'session.changed'> =>
  newEvent('session.changed', {
    actor: 'system',
    sessionId: sessionId(n),
    conversationId: CONVERSATION,
    payload: {
      status: 'queued',
      reason: 'routed',
      channel: 'WB',
      customerId: CUSTOMER,
      skillGroup: 'general',
      assignedAgentId: null,
      offeredAgentId: null,
      offerExpiresAt: null,
      tier: null,
      priority: null,
      createdAt: '2026-11-30T00:00:00.000Z',
      waitingSince: '2026-11-30T00:00:00.000Z',
      lastMessageAt: '2026-11-30T00:00:00.000Z',
    },
  });
const settle = () => new Promise((r) => setTimeout(r, 50));

/**
 * The Bus contract (DESIGN §2: one suite per port, run against every adapter): the in-process bus
 * and the Redis Streams bus run it unchanged. It uses only the `Bus` port and `BusCluster`, never an
 * adapter's internals.
 */
export function busContract(name: string, cluster: () => Promise<BusCluster>): void {
  describe(`Bus contract: ${name}`, () => {
    let backend: BusCluster;
    let nodes: Bus[];
    let bus: Bus;
    const dead: { consumer: string; id: string }[] = [];
    const options: BusOptions = {
      maxAttempts: 3,
      retryDelayMs: 5,
      onDeadLetter: (_t, consumer, event) => void dead.push({ consumer, id: (event as { id: string }).id }),
    };
    const node = async () => {
      const n = await backend.node(options);
      nodes.push(n);
      return n;
    };
    beforeEach(async () => {
      dead.length = 0;
      nodes = [];
      backend = await cluster();
      bus = await node();
    });
    afterEach(async () => {
      await Promise.all(nodes.map((n) => n.close()));
      await backend.close?.();
    });

    describe('work delivery', () => {
      it('delivers to every group, in publish order', async () => {
        const a: string[] = [];
        const b: string[] = [];
        await bus.subscribe('session.changed', 'router', (e) => void a.push(e.sessionId));
        await bus.subscribe('session.changed', 'agents', (e) => void b.push(e.sessionId));
        for (let i = 0; i < 100; i++) await bus.publish(changed(i));
        await until(() => a.length === 100 && b.length === 100);
        const expected = Array.from({ length: 100 }, (_, i) => sessionId(i));
        expect(a).toEqual(expected);
        expect(b).toEqual(expected);
      });

      it('hands each message to one consumer of a group', async () => {
        const seen: string[] = [];
        const one: string[] = [];
        const two: string[] = [];
        await bus.subscribe('session.changed', 'workers', (e) => void (one.push(e.sessionId), seen.push(e.sessionId)));
        await bus.subscribe('session.changed', 'workers', (e) => void (two.push(e.sessionId), seen.push(e.sessionId)));
        for (let i = 0; i < 20; i++) await bus.publish(changed(i));
        await until(() => seen.length === 20);
        expect(new Set(seen).size).toBe(20);
        expect(one.length).toBeGreaterThan(0);
        expect(two.length).toBeGreaterThan(0);
      });

      it('splits a group across two nodes so each event is handled exactly once', async () => {
        const other = await node();
        const seen: string[] = [];
        await bus.subscribe('session.changed', 'router', (e) => void seen.push(e.id));
        await other.subscribe('session.changed', 'router', (e) => void seen.push(e.id));
        const published: string[] = [];
        for (let i = 0; i < 40; i++) {
          const e = changed(i);
          published.push(e.id);
          await (i % 2 ? other : bus).publish(e);
        }
        await until(() => seen.length >= 40);
        await settle();
        expect([...seen].sort()).toEqual([...published].sort());
      });

      it('retries a failing handler with the same event, then dead-letters it and moves on', async () => {
        const attempts: string[] = [];
        const ok: string[] = [];
        const first = changed(1);
        const poison = changed(2);
        await bus.subscribe('session.changed', 'flaky', (e) => {
          if (e.id === first.id && attempts.push(e.id) < 2) throw new Error('transient');
          if (e.id === poison.id) throw new Error('always fails');
          ok.push(e.sessionId);
        });
        for (const e of [first, poison, changed(3)]) await bus.publish(e);
        await until(() => ok.length === 2 && dead.length === 1);
        expect(attempts).toEqual([first.id, first.id]);
        expect(ok).toEqual([sessionId(1), sessionId(3)]);
        expect(dead).toEqual([{ consumer: 'flaky', id: poison.id }]);
      });

      it('lets a consumer keyed by event id act once on an event delivered twice', async () => {
        const acted: string[] = [];
        await bus.subscribe(
          'session.changed',
          'once',
          onceById((e) => void acted.push(e.id)),
        );
        const e = changed(5);
        // A publisher that retried after a lost acknowledgement sends the same event again.
        await bus.publish(e);
        await bus.publish(e);
        await bus.publish(changed(6));
        await until(() => acted.length === 2);
        await settle();
        expect(acted[0]).toBe(e.id);
        expect(acted).toHaveLength(2);
      });

      it('keeps one group going when another group fails', async () => {
        const good: string[] = [];
        await bus.subscribe('session.changed', 'broken', () => {
          throw new Error('down');
        });
        await bus.subscribe('session.changed', 'healthy', (e) => void good.push(e.sessionId));
        await bus.publish(changed(7));
        await until(() => good.length === 1 && dead.length === 1);
        expect(good).toEqual([sessionId(7)]);
      });

      it('stops delivering after unsubscribe', async () => {
        const got: string[] = [];
        const sub = await bus.subscribe('session.changed', 'g', (e) => void got.push(e.sessionId));
        await bus.publish(changed(1));
        await until(() => got.length === 1);
        await sub.unsubscribe();
        await bus.publish(changed(2));
        await settle();
        expect(got).toEqual([sessionId(1)]);
      });
    });

    describe('fan-out delivery', () => {
      it('gives every subscriber on every node every event, in publish order', async () => {
        const other = await node();
        const a: string[] = [];
        const b: string[] = [];
        const c: string[] = [];
        await bus.subscribeAll('session.changed', (e) => void a.push(e.sessionId));
        await bus.subscribeAll('session.changed', (e) => void b.push(e.sessionId));
        await other.subscribeAll('session.changed', (e) => void c.push(e.sessionId));
        for (let i = 0; i < 50; i++) await bus.publish(changed(i));
        await until(() => a.length === 50 && b.length === 50 && c.length === 50);
        await settle();
        const expected = Array.from({ length: 50 }, (_, i) => sessionId(i));
        expect(a).toEqual(expected);
        expect(b).toEqual(expected);
        expect(c).toEqual(expected);
      });

      it('reaches a node that did not publish the event, alongside a work group', async () => {
        const other = await node();
        const pushed: string[] = [];
        const worked: string[] = [];
        await other.subscribeAll('session.changed', (e) => void pushed.push(e.id));
        await bus.subscribe('session.changed', 'router', (e) => void worked.push(e.id));
        await other.subscribe('session.changed', 'router', (e) => void worked.push(e.id));
        const e = changed(1);
        await bus.publish(e);
        await until(() => pushed.length === 1 && worked.length === 1);
        await settle();
        expect(pushed).toEqual([e.id]);
        expect(worked).toEqual([e.id]);
      });

      it('delivers only events published after the subscriber joined', async () => {
        await bus.publish(changed(1));
        const got: string[] = [];
        await bus.subscribeAll('session.changed', (e) => void got.push(e.sessionId));
        await bus.publish(changed(2));
        await until(() => got.length === 1);
        await settle();
        expect(got).toEqual([sessionId(2)]);
      });

      it('keeps the other subscribers going when one fails, and reports the failure', async () => {
        const good: string[] = [];
        await bus.subscribeAll('session.changed', () => {
          throw new Error('socket gone');
        });
        await bus.subscribeAll('session.changed', (e) => void good.push(e.sessionId));
        const e = changed(3);
        await bus.publish(e);
        await until(() => good.length === 1 && dead.length === 1);
        expect(good).toEqual([sessionId(3)]);
        expect(dead).toEqual([{ consumer: 'fanout', id: e.id }]);
      });

      it('stops delivering after unsubscribe', async () => {
        const got: string[] = [];
        const sub = await bus.subscribeAll('session.changed', (e) => void got.push(e.sessionId));
        await bus.publish(changed(1));
        await until(() => got.length === 1);
        await sub.unsubscribe();
        await bus.publish(changed(2));
        await settle();
        expect(got).toEqual([sessionId(1)]);
      });
    });

    it('refuses an event that breaks its schema and delivers nothing', async () => {
      const got: string[] = [];
      await bus.subscribe('session.changed', 'g', (e) => void got.push(e.id));
      await bus.subscribeAll('session.changed', (e) => void got.push(e.id));
      const bad = { ...changed(1), id: 'not-a-uuid' };
      await expect(bus.publish(bad)).rejects.toMatchObject({ code: 'EVENT_INVALID' });
      const noReason = { ...changed(2), payload: { ...changed(2).payload, reason: 'because' } } as unknown as EventOf<'session.changed'>;
      await expect(bus.publish(noReason)).rejects.toMatchObject({ code: 'EVENT_INVALID' });
      await settle();
      expect(got).toEqual([]);
    });

    it('finishes in-flight deliveries on close and refuses new publishes', async () => {
      const got: string[] = [];
      await bus.subscribe('session.changed', 'slow', async (e) => {
        await new Promise((r) => setTimeout(r, 20));
        got.push(e.sessionId);
      });
      await bus.publish(changed(1));
      await bus.close();
      expect(got).toEqual([sessionId(1)]);
      await expect(bus.publish(changed(2))).rejects.toThrow();
    });
  });
}
