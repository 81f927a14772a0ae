import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { joinKey } from './composite-key';

describe('joinKey', () => {
  it('never gives two different part lists of one arity the same key', () => {
    const part = fc.string({ unit: fc.constantFrom('a', ':', '\u0000', 'b', '|', '\\'), maxLength: 6 });
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 4 }),
        fc.array(part, { minLength: 8, maxLength: 8 }),
        fc.constantFrom(':', '\u0000'),
        (n, pool, sep) => {
          const a = pool.slice(0, n);
          const b = pool.slice(4, 4 + n);
          const key = (p: string[]) => {
            try {
              return joinKey(sep, p);
            } catch {
              return null; // refused: cannot collide
            }
          };
          const ka = key(a);
          const kb = key(b);
          if (ka !== null && kb !== null && ka === kb) expect(b).toEqual(a);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('refuses a separator inside a fixed part and keeps the plain join otherwise', () => {
    expect(() => joinKey(':', ['app:x', 'user'])).toThrow(/separator/);
    expect(joinKey(':', ['app', 'user:with:colons'])).toBe('app:user:with:colons');
    expect(joinKey('\u0000', ['identity', 'WB', 'abc'])).toBe('identity\u0000WB\u0000abc');
  });
});
