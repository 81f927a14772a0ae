/*
 * Written for Huiliu; Apache-2.0 with the project (package.json "license": "Apache-2.0").
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { normalizeText } from '../text';
import { z } from 'zod';
import { EMOTIONS, EmotionSchema, KbImportRowSchema, LangSchema, type Emotion } from '../../../../common/ai/types';
import { DEMO_KB } from '../../demo/kb-data';
import { REPO_ROOT } from '../../runtime/paths';
import { EMOTION_LEXICON, INTENSIFIERS, NEGATORS, type LexiconEmotion } from './emotion-lexicon';
import { EMOTION_SEED_ZH_MORE } from './emotion-seed-zh-more';
import { EMOTION_SEED } from './emotion-seed';
import { HUMAN_REQUEST_SEED } from './human-request';

const SHARED_DATA = join(REPO_ROOT, '..', 'shared', 'data');
const LANGS = ['zh', 'en'] as const;
const LEXICON_EMOTIONS = EMOTIONS.filter((e): e is LexiconEmotion => e !== 'neutral');

/** Comparison key: the core's own normalisation (NFKC, lower case, white space collapsed, trimmed). */
const norm = normalizeText;

const HAS_CJK = /[\u4e00-\u9fff]/;

describe('demo knowledge base (server/src/demo/kb-data.ts)', () => {
  const intents = [...new Set(DEMO_KB.map((r) => r.intent))];

  it('parses every row with KbImportRowSchema and states its language', () => {
    for (const row of DEMO_KB) {
      expect(() => KbImportRowSchema.parse(row), row.intent).not.toThrow();
      expect(row.lang === 'zh' || row.lang === 'en', row.intent).toBe(true);
    }
  });

  it('has at least 18 intents, each exactly once in zh and once in en', () => {
    expect(intents.length).toBeGreaterThanOrEqual(18);
    expect(DEMO_KB.length).toBe(intents.length * 2);
    for (const intent of intents) {
      for (const lang of LANGS) {
        expect(
          DEMO_KB.filter((r) => r.intent === intent && r.lang === lang),
          `${intent}/${lang}`,
        ).toHaveLength(1);
      }
    }
  });

  it('covers the e-commerce topics the demo promises', () => {
    for (const intent of [
      'order_status',
      'cancel_order',
      'change_shipping_address',
      'delivery_time',
      'delivery_failed',
      'damaged_item',
      'return_request',
      'return_policy',
      'refund_status',
      'refund_method',
      'payment_failed',
      'payment_methods',
      'invoice_request',
      'login_problem',
      'change_phone_number',
      'account_deletion',
      'coupon_problem',
      'membership_points',
      'product_warranty',
      'contact_hours',
    ]) {
      expect(intents).toContain(intent);
    }
    const zhInvoice = DEMO_KB.find((r) => r.intent === 'invoice_request' && r.lang === 'zh');
    expect(zhInvoice?.answer).toContain('增值税专用发票');
    expect(zhInvoice?.answer).toContain('普通发票');
  });

  it('gives every row 12–20 questions in its own language, with no repeats within or across intents', () => {
    const owner = new Map<string, string>();
    for (const row of DEMO_KB) {
      expect(row.questions.length, `${row.intent}/${row.lang}`).toBeGreaterThanOrEqual(12);
      expect(row.questions.length, `${row.intent}/${row.lang}`).toBeLessThanOrEqual(20);
      for (const q of row.questions) {
        expect(HAS_CJK.test(q), `${row.lang} question "${q}"`).toBe(row.lang === 'zh');
        const key = `${row.lang}:${norm(q)}`;
        expect(owner.get(key), `"${q}" appears twice`).toBeUndefined();
        owner.set(key, row.intent);
      }
    }
  });

  it('answers in 2–4 sentences in the row language', () => {
    for (const row of DEMO_KB) {
      const sentences =
        row.lang === 'zh'
          ? row.answer.split(/[。！？]/).filter((s) => s.trim())
          : row.answer.split(/(?<=[.!?])\s+(?=[A-Z"])/).filter((s) => s.trim());
      expect(sentences.length, `${row.intent}/${row.lang}`).toBeGreaterThanOrEqual(2);
      expect(sentences.length, `${row.intent}/${row.lang}`).toBeLessThanOrEqual(4);
      // An English answer may quote a Chinese term in parentheses, e.g. "special VAT invoice (增值税专用发票)".
      const outsideParentheses = row.answer.replace(/\([^)]*\)/g, '');
      expect(HAS_CJK.test(row.lang === 'zh' ? row.answer : outsideParentheses), row.intent).toBe(row.lang === 'zh');
    }
  });

  it('links every intent to 2–3 other intents that exist, the same in both languages', () => {
    for (const row of DEMO_KB) {
      const related = row.related ?? [];
      expect(related.length, row.intent).toBeGreaterThanOrEqual(2);
      expect(related.length, row.intent).toBeLessThanOrEqual(3);
      expect(related, row.intent).not.toContain(row.intent);
      for (const r of related) expect(intents, `${row.intent} → ${r}`).toContain(r);
      const twin = DEMO_KB.find((t) => t.intent === row.intent && t.lang !== row.lang);
      expect(twin?.related, row.intent).toEqual(row.related);
      expect(twin?.skillGroup, row.intent).toEqual(row.skillGroup);
    }
  });
});

describe('emotion seed (emotion-seed.ts)', () => {
  const SeedSchema = z.strictObject({ text: z.string().trim().min(1), lang: LangSchema, label: EmotionSchema });

  it('parses every sentence and has at least 60 per emotion per language', () => {
    for (const s of EMOTION_SEED) expect(() => SeedSchema.parse(s), s.text).not.toThrow();
    for (const lang of LANGS) {
      for (const label of EMOTIONS) {
        const n = EMOTION_SEED.filter((s) => s.lang === lang && s.label === label).length;
        expect(n, `${lang}/${label}`).toBeGreaterThanOrEqual(60);
      }
    }
    expect(EMOTION_SEED.length).toBeGreaterThanOrEqual(840);
  });

  it('never gives one text two labels, nor lists a text twice', () => {
    const seen = new Map<string, Emotion>();
    for (const s of EMOTION_SEED) {
      const key = `${s.lang}:${norm(s.text)}`;
      expect(seen.get(key), `"${s.text}" listed twice`).toBeUndefined();
      seen.set(key, s.label);
    }
  });

  it('keeps sentences between 2 and 60 characters (zh) or words (en)', () => {
    for (const s of EMOTION_SEED) {
      const size = s.lang === 'zh' ? [...s.text].length : s.text.split(/\s+/).length;
      expect(size, s.text).toBeGreaterThanOrEqual(s.lang === 'zh' ? 2 : 1);
      expect(size, s.text).toBeLessThanOrEqual(60);
    }
  });

  it('labels the negation traps by what they express', () => {
    const labelOf = (text: string): Emotion | undefined => EMOTION_SEED.find((s) => s.text === text)?.label;
    expect(labelOf('不是很满意，跟图片差挺多的')).toBe('sadness');
    expect(labelOf('不难吃，甚至有点好吃')).toBe('happiness');
    expect(labelOf('没生气，就是问问什么时候到')).toBe('neutral');
    expect(labelOf('Not bad at all, matches the description')).toBe('happiness');
    expect(labelOf("I'm not angry, just asking when it will arrive")).toBe('neutral');
    expect(labelOf("I'm not angry, just disappointed")).toBe('sadness');
  });

  it('copies no sentence from SMP2020-EWECT or GoEmotions (here and in emotion-seed-zh-more.ts)', () => {
    const corpus = new Set<string>();
    for (const file of ['usual_test_labeled', 'virus_test_labeled', 'usual_eval_labeled', 'virus_eval_labeled']) {
      const rows = JSON.parse(readFileSync(join(SHARED_DATA, 'emotion-zh-smp2020-ewect', `${file}.json`), 'utf8')) as { content: string }[];
      for (const r of rows) corpus.add(norm(r.content));
    }
    for (const file of ['ekman/test.tsv', 'ekman/dev.tsv', 'original/test.tsv']) {
      for (const line of readFileSync(join(SHARED_DATA, 'emotion-en-goemotions', file), 'utf8').split('\n')) {
        if (line.trim()) corpus.add(norm(line.split('\t')[0] ?? ''));
      }
    }
    expect(corpus.size).toBeGreaterThan(20_000);
    const copied = [...EMOTION_SEED, ...EMOTION_SEED_ZH_MORE].filter((s) => corpus.has(norm(s.text))).map((s) => s.text);
    expect(copied).toEqual([]);
  });
});

describe('emotion lexicon (emotion-lexicon.ts)', () => {
  it('has at least 60 zh and 40 en terms per emotion, weighted 0.3–1.0', () => {
    for (const lang of LANGS) {
      for (const emotion of LEXICON_EMOTIONS) {
        const terms = EMOTION_LEXICON[lang][emotion];
        expect(terms.length, `${lang}/${emotion}`).toBeGreaterThanOrEqual(lang === 'zh' ? 60 : 40);
        for (const { term, weight } of terms) {
          expect(term, `${lang}/${emotion}`).toBe(term.trim());
          expect(term.length, `${lang}/${emotion}`).toBeGreaterThan(0);
          expect(weight, term).toBeGreaterThanOrEqual(0.3);
          expect(weight, term).toBeLessThanOrEqual(1);
          if (lang === 'en') expect(term, term).toBe(term.toLowerCase());
          if (lang === 'zh') expect([...term].length, term).toBeLessThanOrEqual(6);
        }
      }
    }
  });

  it('lists a term under one emotion only, and never as an intensifier or negator too', () => {
    for (const lang of LANGS) {
      const owner = new Map<string, LexiconEmotion>();
      for (const emotion of LEXICON_EMOTIONS) {
        for (const { term } of EMOTION_LEXICON[lang][emotion]) {
          expect(owner.get(term), `${lang} "${term}"`).toBeUndefined();
          owner.set(term, emotion);
        }
      }
      for (const word of [...INTENSIFIERS[lang], ...NEGATORS[lang]]) expect(owner.has(word), `${lang} "${word}"`).toBe(false);
    }
  });

  it('puts the common emoji under the emotion they show', () => {
    const expected: [string, LexiconEmotion][] = [
      ['😡', 'anger'],
      ['🤮', 'disgust'],
      ['😱', 'fear'],
      ['😂', 'happiness'],
      ['😢', 'sadness'],
      ['😮', 'surprise'],
    ];
    for (const lang of LANGS) {
      for (const [emoji, emotion] of expected) {
        expect(
          EMOTION_LEXICON[lang][emotion].map((t) => t.term),
          `${lang} ${emoji}`,
        ).toContain(emoji);
      }
    }
  });

  it('has the usual intensifiers and negators in both languages', () => {
    for (const w of ['非常', '太', '超级', '特别', '极其', '真的']) expect(INTENSIFIERS.zh).toContain(w);
    for (const w of ['so', 'very', 'extremely', 'really', 'totally']) expect(INTENSIFIERS.en).toContain(w);
    for (const w of ['不', '没', '没有', '别', '未', '不是']) expect(NEGATORS.zh).toContain(w);
    for (const w of ['not', 'no', 'never', "don't", "isn't", "wasn't", "can't", "won't"]) expect(NEGATORS.en).toContain(w);
    for (const lang of LANGS) {
      expect(new Set(INTENSIFIERS[lang]).size).toBe(INTENSIFIERS[lang].length);
      expect(new Set(NEGATORS[lang]).size).toBe(NEGATORS[lang].length);
    }
  });
});

describe('human-request seed (human-request.ts)', () => {
  const SentenceSchema = z.strictObject({ text: z.string().trim().min(1), lang: LangSchema, wantsHuman: z.boolean() });

  it('has at least 80 asks and 80 look-alikes per language', () => {
    for (const s of HUMAN_REQUEST_SEED) expect(() => SentenceSchema.parse(s), s.text).not.toThrow();
    for (const lang of LANGS) {
      for (const wantsHuman of [true, false]) {
        const n = HUMAN_REQUEST_SEED.filter((s) => s.lang === lang && s.wantsHuman === wantsHuman).length;
        expect(n, `${lang}/${wantsHuman}`).toBeGreaterThanOrEqual(80);
      }
    }
  });

  it('never lists a sentence twice or on both sides', () => {
    const seen = new Set<string>();
    for (const s of HUMAN_REQUEST_SEED) {
      const key = `${s.lang}:${norm(s.text)}`;
      expect(seen.has(key), s.text).toBe(false);
      seen.add(key);
    }
  });

  it('writes each sentence in its language', () => {
    for (const s of HUMAN_REQUEST_SEED) expect(HAS_CJK.test(s.text), s.text).toBe(s.lang === 'zh');
  });
});
