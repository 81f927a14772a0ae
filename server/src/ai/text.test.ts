import { describe, expect, it } from 'vitest';
import { detectLang, normalizeText, tokenize } from './text';

describe('text preparation', () => {
  it('normalises full-width letters and digits, case and white space', () => {
    expect(normalizeText('  ＯＲＤＥＲ　１２３\n\tOK ')).toBe('order 123 ok');
  });

  it('detects Chinese by the share of Han characters among letters', () => {
    expect(detectLang('我的订单到哪了')).toBe('zh');
    expect(detectLang('我的order还没到')).toBe('zh');
    expect(detectLang('where is my order')).toBe('en');
    expect(detectLang('the word 好 in an English sentence about orders')).toBe('en');
    expect(detectLang('12345 !!!')).toBe('en');
  });

  it('segments Chinese with jieba, keeps Latin words and numbers whole inside Chinese', () => {
    const t = tokenize(normalizeText('我要转人工客服，订单2024112900123的order还没到'));
    expect(t.words).toEqual(expect.arrayContaining(['人工', '客服', '订单', '2024112900123', 'order']));
    expect(t.hanRuns[0]).toBe('我要转人工客服');
  });

  it('keeps emoji and emphatic punctuation as cues, full-width and half-width alike', () => {
    const t = tokenize(normalizeText('气死我了！！！😡 why??'));
    expect(t.cues).toEqual(expect.arrayContaining(['😡', '!!', '??']));
  });

  it('keeps English contractions whole', () => {
    expect(tokenize("i don't know").words).toEqual(['i', "don't", 'know']);
  });
});
