import { describe, expect, it } from 'vitest';
import { csatWarranted } from '../customers/csat';
import { csatTexts, parseRatingReply } from './csat-survey';

describe('parseRatingReply (issue 15)', () => {
  it('reads a reply that is exactly a rating: ASCII, full-width and Chinese numerals, with white space or 分/星', () => {
    expect(['1', ' 2 ', '３', '４\n', '五', '5分', '4星', '三'].map(parseRatingReply)).toEqual([1, 2, 3, 4, 5, 5, 4, 3]);
  });
  it('leaves everything else an ordinary message', () => {
    for (const text of ['0', '6', '55', '5 stars', 'hello', '', '５５', '六', '1-5', '5.0', '-1'])
      expect(parseRatingReply(text)).toBeNull();
  });
});

describe('csatWarranted (issue 15)', () => {
  const closed = { status: 'closed', reason: 'closed' as const };
  it('asks after an agent closes with a code that has a customer to ask', () => {
    expect(csatWarranted({ ...closed, wrapUpCode: 'resolved' })).toBe(true);
    expect(csatWarranted({ ...closed, wrapUpCode: 'follow-up' })).toBe(true);
    expect(csatWarranted({ ...closed, wrapUpCode: 'escalated' })).toBe(true);
    expect(csatWarranted(closed)).toBe(true);
  });
  it('never after spam, a duplicate, an abandoned contact, a move to another channel or a change that is no close', () => {
    expect(csatWarranted({ ...closed, wrapUpCode: 'spam' })).toBe(false);
    expect(csatWarranted({ ...closed, wrapUpCode: 'duplicate' })).toBe(false);
    expect(csatWarranted({ ...closed, wrapUpCode: 'no-response' })).toBe(false);
    expect(csatWarranted({ status: 'closed', reason: 'moved' })).toBe(false);
    expect(csatWarranted({ status: 'active', reason: 'accepted' })).toBe(false);
  });
});

describe('csatTexts', () => {
  it('asks and thanks in the customer language, naming the window', () => {
    expect(csatTexts.prompt('zh', 24)).toMatch(/1–5.*24 小时/u);
    expect(csatTexts.prompt('en', 48)).toMatch(/1 to 5.*48 hours/);
    expect(csatTexts.thanks('zh', 4)).toContain('4 分');
    expect(csatTexts.thanks('en', 4)).toContain('4/5');
  });
});
