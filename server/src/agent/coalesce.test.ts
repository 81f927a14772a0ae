import { describe, expect, it } from 'vitest';
import { coalesceFlushes } from './coalesce';

describe('coalesceFlushes', () => {
  it("runs a socket's flush once per event-loop turn, with its TCP socket corked around it", async () => {
    const calls: string[] = [];
    const tcp = { cork: () => calls.push('cork'), uncork: () => calls.push('uncork') };
    const raw = { flush: () => calls.push('flush'), transport: { socket: { _socket: tcp } } };
    coalesceFlushes(raw);
    coalesceFlushes(raw); // idempotent: still one flush per turn
    raw.flush();
    raw.flush();
    raw.flush();
    expect(calls).toEqual([]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(calls).toEqual(['cork', 'flush', 'uncork']);
    raw.flush();
    await new Promise((resolve) => setImmediate(resolve));
    expect(calls).toEqual(['cork', 'flush', 'uncork', 'cork', 'flush', 'uncork']);
  });

  it('defers a transport without a socket (polling) too', async () => {
    const polled: string[] = [];
    const polling = { flush: () => polled.push('flush'), transport: null };
    coalesceFlushes(polling);
    polling.flush();
    polling.flush();
    await new Promise((resolve) => setImmediate(resolve));
    expect(polled).toEqual(['flush']);
  });
});
