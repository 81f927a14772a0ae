import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { VisitorTokens } from './visitor-token';

describe('visitor tokens', () => {
  const tokens = new VisitorTokens(randomBytes(32));

  it('accepts what it issued, and each token is new', () => {
    const a = tokens.issue();
    const b = tokens.issue();
    expect(a).not.toBe(b);
    expect(tokens.verify(a)).toBe(true);
  });

  it('refuses guesses, altered tags, and tokens of another server', () => {
    const t = tokens.issue();
    expect(tokens.verify('aaaaaaaaaaaaaaaaaaaaaaaa.aaaaaaaaaaaaaaaaaaaaaa')).toBe(false);
    expect(tokens.verify(`${t.slice(0, -1)}${t.endsWith('A') ? 'B' : 'A'}`)).toBe(false);
    expect(tokens.verify('short')).toBe(false);
    expect(new VisitorTokens(randomBytes(32)).verify(t)).toBe(false);
  });
});
