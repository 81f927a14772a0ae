import { HuiliuError, zodDetails } from '../../../common/errors/codes';
import { EVENT_SCHEMAS, type BusEvent, type EventOf, type EventType } from '../../../common/events/events';
import type { Bus, BusOptions, Handler, Subscription } from './bus';

interface Consumer {
  handler: Handler<EventType>;
  node: MemoryNode;
}

/** A work group, or one fan-out subscriber (a group of one that nobody else can join). */
interface Queue {
  name: string;
  consumers: Consumer[];
  next: number;
  events: BusEvent[];
  running: Promise<void> | null;
}

interface MemoryNode {
  maxAttempts: number;
  retryDelayMs: number;
  onDeadLetter: BusOptions['onDeadLetter'];
  onDelivery: BusOptions['onDelivery'];
}

/** Several bus nodes sharing one in-process backend: what a Redis deployment is across servers. */
export interface MemoryBroker {
  /** A new node (one server process's `Bus`) on this backend. */
  node(options?: BusOptions): Bus;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Checks an event against its type's schema (common/events/ `EVENT_SCHEMAS`).
 * @throws HuiliuError EVENT_INVALID with the failing fields (never their values) in `details`
 */
export function assertValidEvent(event: { type: string }): asserts event is BusEvent {
  const schema = (EVENT_SCHEMAS as Record<string, (typeof EVENT_SCHEMAS)[EventType]>)[event.type];
  if (!schema) throw new HuiliuError('EVENT_INVALID', `Unknown event type.`, [{ path: 'type', message: 'unknown event type' }]);
  const parsed = schema.safeParse(event);
  if (!parsed.success) throw new HuiliuError('EVENT_INVALID', `A ${event.type} event breaks its schema.`, zodDetails(parsed.error));
}

/**
 * In-process backend: one FIFO per (type, work group) and per fan-out subscriber, each drained by
 * one async loop so it sees events in publish order; consumers of a group take turns (round robin)
 * like consumers of a stream, whichever node they are on. Retry and dead-letter follow the options
 * of the node the consumer is on.
 */
export function createMemoryBroker(): MemoryBroker {
  const groups = new Map<EventType, Map<string, Queue>>();
  const fanouts = new Map<EventType, Set<Queue>>();

  async function deliver(type: EventType, queue: Queue, consumer: Consumer, event: BusEvent): Promise<void> {
    const { maxAttempts, retryDelayMs, onDeadLetter, onDelivery } = consumer.node;
    onDelivery?.(type, event.at);
    for (let attempt = 1; ; attempt++) {
      try {
        await consumer.handler(event as never);
        return;
      } catch (error) {
        if (attempt >= maxAttempts) return onDeadLetter?.(type, queue.name, event, error);
        await sleep(retryDelayMs * attempt);
      }
    }
  }

  async function drain(type: EventType, queue: Queue): Promise<void> {
    while (queue.events.length > 0 && queue.consumers.length > 0) {
      const consumer = queue.consumers[queue.next++ % queue.consumers.length]!;
      await deliver(type, queue, consumer, queue.events[0]!);
      queue.events.shift();
    }
    queue.running = null;
  }

  function kick(type: EventType, queue: Queue): void {
    if (!queue.running) queue.running = Promise.resolve().then(() => drain(type, queue));
  }

  return {
    node(options: BusOptions = {}): Bus {
      const node: MemoryNode = {
        maxAttempts: options.maxAttempts ?? 5,
        retryDelayMs: options.retryDelayMs ?? 50,
        onDeadLetter: options.onDeadLetter,
        onDelivery: options.onDelivery,
      };
      const mine = new Set<{ queue: Queue; consumer: Consumer; fanout: boolean; type: EventType }>();
      let closed = false;

      const remove = (entry: { queue: Queue; consumer: Consumer; fanout: boolean; type: EventType }) => {
        mine.delete(entry);
        const i = entry.queue.consumers.indexOf(entry.consumer);
        if (i >= 0) entry.queue.consumers.splice(i, 1);
        if (entry.fanout) fanouts.get(entry.type)?.delete(entry.queue);
      };
      const attach = (type: EventType, queue: Queue, handler: Handler<EventType>, fanout: boolean): Subscription => {
        if (closed) throw new Error('bus is closed');
        const entry = { queue, consumer: { handler, node }, fanout, type };
        queue.consumers.push(entry.consumer);
        mine.add(entry);
        return { unsubscribe: async () => remove(entry) };
      };

      return {
        kind: 'memory',
        async publish<T extends EventType>(event: EventOf<T>) {
          if (closed) throw new Error('bus is closed');
          assertValidEvent(event);
          const type = event.type as EventType;
          for (const queue of [...(groups.get(type)?.values() ?? []), ...(fanouts.get(type) ?? [])]) {
            queue.events.push(event);
            kick(type, queue);
          }
        },
        async subscribe<T extends EventType>(type: T, group: string, handler: Handler<T>): Promise<Subscription> {
          let byName = groups.get(type);
          if (!byName) groups.set(type, (byName = new Map()));
          let queue = byName.get(group);
          if (!queue) byName.set(group, (queue = { name: group, consumers: [], next: 0, events: [], running: null }));
          const sub = attach(type, queue, handler as Handler<EventType>, false);
          kick(type, queue); // events that waited for a consumer of the group
          return sub;
        },
        async subscribeAll<T extends EventType>(type: T, handler: Handler<T>): Promise<Subscription> {
          let set = fanouts.get(type);
          if (!set) fanouts.set(type, (set = new Set()));
          const queue: Queue = { name: 'fanout', consumers: [], next: 0, events: [], running: null };
          const sub = attach(type, queue, handler as Handler<EventType>, true);
          set.add(queue);
          return sub;
        },
        async close() {
          closed = true;
          // Deliveries already queued to this node's consumers finish first (a shutdown loses nothing
          // that was published before it); then its consumers leave their groups.
          await Promise.all([...mine].map((e) => e.queue.running));
          for (const entry of [...mine]) remove(entry);
        },
      };
    },
  };
}

/** A one-node in-process bus (the embedded deployment, DESIGN §2). */
export function createMemoryBus(options: BusOptions = {}): Bus {
  return createMemoryBroker().node(options);
}
