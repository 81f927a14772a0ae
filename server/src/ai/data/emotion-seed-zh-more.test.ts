/*
 * Written for Huiliu; Apache-2.0 with the project (package.json "license": "Apache-2.0").
 */
import { describe, expect, it } from 'vitest';
import { normalizeText } from '../text';
import { z } from 'zod';
import { EMOTIONS, EmotionSchema, type Emotion } from '../../../../common/ai/types';
import { EMOTION_SEED } from './emotion-seed';
import { EMOTION_SEED_ZH_MORE } from './emotion-seed-zh-more';

/** Comparison key: the core's own normalisation (NFKC, lower case, white space collapsed, trimmed). */
const norm = normalizeText;

const HAS_CJK = /[\u4e00-\u9fff]/;

describe('more Chinese emotion sentences (emotion-seed-zh-more.ts)', () => {
  const SeedSchema = z.strictObject({ text: z.string().trim().min(1), lang: z.literal('zh'), label: EmotionSchema });

  it('parses every sentence as zh and has at least 200 per emotion', () => {
    for (const s of EMOTION_SEED_ZH_MORE) {
      expect(() => SeedSchema.parse(s), s.text).not.toThrow();
      expect(HAS_CJK.test(s.text), s.text).toBe(true);
    }
    for (const label of EMOTIONS) {
      const n = EMOTION_SEED_ZH_MORE.filter((s) => s.label === label).length;
      expect(n, label).toBeGreaterThanOrEqual(200);
    }
    expect(EMOTION_SEED_ZH_MORE.length).toBeGreaterThanOrEqual(1400);
  });

  it('keeps sentences trimmed and between 2 and 80 characters', () => {
    for (const s of EMOTION_SEED_ZH_MORE) {
      expect(s.text, s.text).toBe(s.text.trim());
      const size = [...s.text].length;
      expect(size, s.text).toBeGreaterThanOrEqual(2);
      expect(size, s.text).toBeLessThanOrEqual(80);
    }
  });

  it('never lists a text twice nor under two labels', () => {
    const owner = new Map<string, Emotion>();
    const twice: string[] = [];
    for (const s of EMOTION_SEED_ZH_MORE) {
      const key = norm(s.text);
      if (owner.has(key)) twice.push(`${s.text} (${owner.get(key)} / ${s.label})`);
      owner.set(key, s.label);
    }
    expect(twice).toEqual([]);
  });

  it('repeats no sentence of EMOTION_SEED, under any label', () => {
    const seed = new Set(EMOTION_SEED.map((s) => norm(s.text)));
    expect(seed.size).toBeGreaterThan(800);
    const repeated = EMOTION_SEED_ZH_MORE.filter((s) => seed.has(norm(s.text))).map((s) => s.text);
    expect(repeated).toEqual([]);
  });

  it('labels the hard cases (negation, sarcasm, mixed feelings) by what they express', () => {
    const labelOf = (text: string): Emotion | undefined => EMOTION_SEED_ZH_MORE.find((s) => s.text === text)?.label;
    expect(labelOf('真是太棒了，航班又延误三个小时，连个解释都没有')).toBe('anger');
    expect(labelOf('说好的年终奖变成了一箱苹果，我谢谢您嘞')).toBe('anger');
    expect(labelOf('一点都不难过，反而觉得轻松多了，终于可以做自己想做的事了')).toBe('happiness');
    expect(labelOf('不紧张了，一点也不怕了，反而很期待明天的比赛')).toBe('happiness');
    expect(labelOf('我没有生气，只是有点失望，原来在你心里我这么不重要')).toBe('sadness');
    expect(labelOf('我没有不开心，只是在想事情')).toBe('neutral');
    expect(labelOf('不是不满意，只是想问问还有没有别的颜色')).toBe('neutral');
    expect(labelOf('虽然拿到了offer，但要离开家人去很远的城市，心里更多的是不舍')).toBe('sadness');
    expect(labelOf('又冷又饿地等了一个小时车，但一进家门闻到妈妈炖的汤，什么都值了')).toBe('happiness');
  });

  it('covers the everyday social-media forms: slang, emoji, hashtags, mentions, 【】 and very short posts', () => {
    const texts = EMOTION_SEED_ZH_MORE.map((s) => s.text);
    const count = (re: RegExp): number => texts.filter((t) => re.test(t)).length;
    for (const slang of [
      '绝了',
      '破防了',
      '笑死',
      'yyds',
      'emo了',
      '裂开',
      '无语子',
      '我真的会谢',
      '吓死宝宝了',
      '惊呆了',
      '离谱',
      '恶心死了',
      '心态崩了',
    ]) {
      expect(count(new RegExp(slang)), slang).toBeGreaterThan(0);
    }
    expect(count(/\p{Extended_Pictographic}/u)).toBeGreaterThanOrEqual(20);
    expect(count(/#[^#]+#/)).toBeGreaterThanOrEqual(7);
    expect(count(/@\S/)).toBeGreaterThanOrEqual(7);
    expect(count(/【[^】]+】/)).toBeGreaterThanOrEqual(2);
    expect(count(/[！!]{3}|[？?]{3}/)).toBeGreaterThanOrEqual(15);
    for (const label of EMOTIONS) {
      const short = EMOTION_SEED_ZH_MORE.filter((s) => s.label === label && [...s.text].length <= 4).length;
      expect(short, label).toBeGreaterThanOrEqual(5);
    }
  });
});
