import { describe, expect, it } from 'vitest';
import { TokenBucket } from './token-bucket';

describe('token bucket', () => {
  it('allows a burst, then the refill rate', () => {
    let t = 0;
    const b = new TokenBucket(3, 1, () => t);
    expect([b.take(), b.take(), b.take(), b.take()]).toEqual([true, true, true, false]);
    t += 999;
    expect(b.take()).toBe(false);
    t += 1;
    expect(b.take()).toBe(true);
    t += 60_000;
    expect([b.take(), b.take(), b.take(), b.take()]).toEqual([true, true, true, false]);
  });

  it('says how long until the next token, for retryAfterMs', () => {
    let t = 0;
    const b = new TokenBucket(1, 2, () => t);
    expect(b.msUntilNext()).toBe(0);
    b.take();
    expect(b.msUntilNext()).toBe(500);
    t += 200;
    expect(b.msUntilNext()).toBe(300);
  });
});
