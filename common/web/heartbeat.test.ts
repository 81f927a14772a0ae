import { describe, expect, it } from 'vitest';
import { Heartbeat } from './heartbeat';

describe('adaptive heartbeat (DESIGN §7)', () => {
  it('beats every 30 s on a good link', () => {
    const h = new Heartbeat();
    expect(h.beat(0)).toBe('ping');
    h.pong(0, 40);
    expect(h.weak).toBe(false);
    expect(h.intervalMs).toBe(30_000);
    expect(h.roundTripMs).toBe(40);
  });

  it('slows to 60 s when round trips are long', () => {
    const h = new Heartbeat();
    let t = 0;
    for (let i = 0; i < 20; i++) {
      expect(h.beat(t)).toBe('ping');
      h.pong(t, t + 2_500);
      t += h.intervalMs;
    }
    expect(h.weak).toBe(true);
    expect(h.intervalMs).toBe(60_000);
  });

  it('declares the link dead at the next beat when a pong never came, within one interval', () => {
    const h = new Heartbeat();
    expect(h.beat(0)).toBe('ping');
    expect(h.beat(30_000)).toBe('dead');
    // After a loss the link counts as weak until good pongs come back.
    h.reset();
    expect(h.intervalMs).toBe(60_000);
    expect(h.beat(60_000)).toBe('ping');
    h.pong(60_000, 60_050);
    expect(h.intervalMs).toBe(30_000);
  });

  it('ignores stale and unexpected pongs', () => {
    const h = new Heartbeat();
    h.pong(123, 200);
    expect(h.roundTripMs).toBeNull();
    h.beat(1_000);
    h.pong(999, 1_010);
    expect(h.roundTripMs).toBeNull();
    expect(h.beat(31_000)).toBe('dead');
  });
});
