import { describe, expect, it } from 'vitest';
import { indexTerms, queryTerms } from './terms';

/** Does a query find a text under the documented semantics (every query term among the text's terms)? */
const finds = (text: string, query: string) => {
  const index = new Set(indexTerms(text));
  const terms = queryTerms(query);
  return terms.length > 0 && terms.every((t) => index.has(t));
};

describe('search terms of text read from images', () => {
  it('splits English into lower-case words of two characters or more', () => {
    expect(indexTerms('Order#88990011 was charged TWICE, a b')).toEqual(['order', '88990011', 'was', 'charged', 'twice']);
  });

  it('folds full-width forms (NFKC)', () => {
    expect(indexTerms('ＯＲＤＥＲ １２３')).toEqual(['order', '123']);
  });

  it('indexes Han characters one by one and in neighbouring pairs', () => {
    expect(indexTerms('物流信息')).toEqual(['物', '流', '信', '息', '物流', '流信', '信息']);
  });

  it('finds a grouped number by its digits and by its groups', () => {
    const text = 'Call 138-1234-5678 today';
    expect(finds(text, '13812345678')).toBe(true);
    expect(finds(text, '138 1234 5678')).toBe(true);
    expect(finds('13812345678', '138-1234-5678')).toBe(true);
  });

  it('matches whole words only, every term of the query', () => {
    expect(finds('Order 88990011 was charged twice', 'charged twice')).toBe(true);
    expect(finds('Order 88990011 was charged twice', 'charge')).toBe(false);
    expect(finds('Order 88990011 was charged twice', 'charged thrice')).toBe(false);
  });

  it('finds a Chinese phrase inside text, and a single character', () => {
    const text = '我的订单还没有收到，请帮我查一下物流信息';
    expect(finds(text, '物流信息')).toBe(true);
    expect(finds(text, '订单')).toBe(true);
    expect(finds(text, '单')).toBe(true);
    expect(finds(text, '退款')).toBe(false);
  });

  it('gives a query of only one-letter words or punctuation no term', () => {
    expect(queryTerms('a ! ?')).toEqual([]);
  });

  it('keeps at most the given number of terms', () => {
    expect(indexTerms(Array.from({ length: 50 }, (_, i) => `word${i}`).join(' '), 10)).toHaveLength(10);
  });
});
