import { describe, expect, it } from 'vitest';
import { initials } from './ViewersBar';

describe('viewer avatar initials (issue 15 review)', () => {
  it('takes whole graphemes: no half emoji family, lone flag letter or accent left behind', () => {
    expect(initials('Agent Two')).toBe('AT');
    expect(initials('李雷')).toBe('李');
    expect(initials('👨‍👩‍👧 Family')).toBe('👨‍👩‍👧F');
    expect(initials('🇨🇳')).toBe('🇨🇳');
    expect(initials('e\u0301mile zola')).toBe('E\u0301Z');
    expect(initials('   ')).toBe('?');
  });
});
