import type { Bus, BusOptions, BusTopics, Handler, Subscription, Topic } from './bus';

interface Group {
  name: string;
  handlers: Handler<Topic>[];
  next: number;
  queue: unknown[];
  running: Promise<void> | null;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * In-process bus: one FIFO per (topic, group), drained by one async loop so a group sees messages
 * in publish order, and handlers of a group take turns (round robin) like consumers of a stream.
 */
export function createMemoryBus(options: BusOptions = {}): Bus {
  const maxAttempts = options.maxAttempts ?? 5;
  const retryDelayMs = options.retryDelayMs ?? 50;
  const topics = new Map<Topic, Map<string, Group>>();
  let closed = false;

  async function drain(topic: Topic, group: Group): Promise<void> {
    while (group.queue.length > 0 && group.handlers.length > 0) {
      const payload = group.queue[0];
      const handler = group.handlers[group.next++ % group.handlers.length]!;
      for (let attempt = 1; ; attempt++) {
        try {
          await handler(payload as never);
          break;
        } catch (error) {
          if (attempt >= maxAttempts) {
            options.onDeadLetter?.(topic, group.name, payload, error);
            break;
          }
          await sleep(retryDelayMs * attempt);
        }
      }
      group.queue.shift();
    }
    group.running = null;
  }

  function kick(topic: Topic, group: Group): void {
    if (!group.running) group.running = Promise.resolve().then(() => drain(topic, group));
  }

  return {
    kind: 'memory',
    async publish<T extends Topic>(topic: T, payload: BusTopics[T]) {
      if (closed) throw new Error('bus is closed');
      const groups = topics.get(topic);
      if (!groups) return;
      for (const group of groups.values()) {
        group.queue.push(payload);
        kick(topic, group);
      }
    },
    async subscribe<T extends Topic>(topic: T, groupName: string, handler: Handler<T>): Promise<Subscription> {
      let groups = topics.get(topic);
      if (!groups) topics.set(topic, (groups = new Map()));
      let group = groups.get(groupName);
      if (!group) groups.set(groupName, (group = { name: groupName, handlers: [], next: 0, queue: [], running: null }));
      const g = group;
      g.handlers.push(handler as Handler<Topic>);
      return {
        async unsubscribe() {
          const i = g.handlers.indexOf(handler as Handler<Topic>);
          if (i >= 0) g.handlers.splice(i, 1);
        },
      };
    },
    async close() {
      closed = true;
      const running = [...topics.values()].flatMap((groups) => [...groups.values()].map((g) => g.running));
      await Promise.all(running);
    },
  };
}
