import { describe, expect, it } from 'vitest';
import { EMOTIONS } from '../../../common/ai/types';
import { LanguageCore } from './core';
import { lexiconHits } from './lexicon';
import { normalizeText } from './text';

// The shipped models (ai/models/core-models.json.gz), as the server loads them.
const core = new LanguageCore();

describe('emotion lexicon', () => {
  it('finds terms, cancels negated ones and boosts intensified ones', () => {
    const plain = lexiconHits(normalizeText('我很开心'), 'zh');
    expect(plain.strength.happiness).toBeGreaterThan(0);
    const negated = lexiconHits(normalizeText('我不太开心'), 'zh');
    expect(negated.strength.happiness).toBe(0);
    expect(negated.negated).toBeGreaterThan(0);
    const intense = lexiconHits(normalizeText('非常生气'), 'zh');
    expect(intense.strength.anger).toBeGreaterThan(lexiconHits(normalizeText('生气'), 'zh').strength.anger);
    expect(lexiconHits(normalizeText("I'm not happy with this"), 'en').strength.happiness).toBe(0);
    expect(lexiconHits(normalizeText('I am furious'), 'en').strength.anger).toBeGreaterThan(0);
  });
});

describe('emotion classifier (shipped model)', () => {
  it('reads clear emotions in Chinese and English', () => {
    expect(core.emotion('气死我了！！你们这是什么破服务，骗子！').label).toBe('anger');
    expect(core.emotion('This is absolutely unacceptable, I am furious with your company!').label).toBe('anger');
    expect(core.emotion('太好了，谢谢你们，非常满意！').label).toBe('happiness');
    expect(core.emotion('Thank you so much, you made my day!').label).toBe('happiness');
    expect(core.emotion('我好害怕，账户是不是被盗了').label).toBe('fear');
    expect(core.emotion('请问发票怎么开？').label).toBe('neutral');
    // Plain questions and polite requests are not surprise or anger (GoEmotions files questions under surprise).
    for (const t of ['Where is my order?', '我的订单到哪了？', '我要人工客服', 'I want a real person', '今天天气怎么样'])
      expect(core.emotion(t).label, t).toBe('neutral');
  });

  it('answers every emotion with scores summing to 1, and intensity 0 for neutral', () => {
    const r = core.emotion('请问你们几点下班');
    expect(Object.keys(r.scores).sort()).toEqual([...EMOTIONS].sort());
    expect(Object.values(r.scores).reduce((s, p) => s + p, 0)).toBeCloseTo(1, 2);
    if (r.label === 'neutral') expect(r.intensity).toBe(0);
  });

  it('rates shouted anger as more intense than mild annoyance', () => {
    const strong = core.emotion('气死我了！！！垃圾！！骗子！！！');
    const mild = core.emotion('有点烦');
    expect(strong.label).toBe('anger');
    expect(strong.intensity).toBeGreaterThan(mild.intensity);
    expect(strong.intensity).toBeGreaterThan(0.6);
  });

  it('does not read a negated emotion word as that emotion', () => {
    expect(core.emotion('我并不开心').label).not.toBe('happiness');
    expect(core.emotion('not bad at all, thanks').label).not.toBe('anger');
  });
});

describe('hand-over request detector (shipped model)', () => {
  it('hears a request for a person in many words, both languages', () => {
    for (const t of [
      'I want to talk to a human agent please',
      'real person please',
      'get me a manager',
      '转人工',
      '我要人工客服',
      '别用机器人糊弄我，找个真人',
    ]) {
      expect(core.wantsHuman(t), t).toBe(true);
    }
  });

  it('does not mistake look-alikes for a request', () => {
    for (const t of [
      '人工费怎么算',
      '人工智能是什么',
      'where is my order',
      'the human body lotion arrived broken',
      '退款什么时候到账',
      "I don't need a human, thanks anyway",
      '不需要转人工',
    ]) {
      expect(core.wantsHuman(t), t).toBe(false);
    }
  });
});
