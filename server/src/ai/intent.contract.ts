import { describe, expect, it } from 'vitest';
import type { IntentClassifier } from './intent';

/**
 * The `IntentClassifier` contract (issue 9): what any intent model behind the port must do, run
 * against each implementation with a small two-language KB it was trained on. `make` trains (or
 * loads) a model on the `examples` given.
 */
export const CONTRACT_EXAMPLES: { text: string; intent: string }[] = [
  ...[
    'where is my order',
    'my order has not arrived yet',
    'track my parcel please',
    'when will my package come',
    '我的订单到哪了',
    '快递怎么还没到',
    '查一下物流',
  ].map((text) => ({ text, intent: 'order_status' })),
  ...[
    'i want my money back',
    'how do i get a refund',
    'refund my payment',
    'please refund the charge',
    '我要退款',
    '退款怎么申请',
    '钱什么时候退回来',
  ].map((text) => ({ text, intent: 'refund' })),
  ...[
    'i forgot my password',
    'cannot log in to my account',
    'reset my password',
    'my login does not work',
    '忘记密码了',
    '登录不上去',
    '账号登不进去怎么办',
  ].map((text) => ({ text, intent: 'login' })),
];

export function intentClassifierContract(name: string, make: (examples: { text: string; intent: string }[]) => IntentClassifier): void {
  describe(`IntentClassifier contract: ${name}`, () => {
    const model = make(CONTRACT_EXAMPLES);

    it('knows exactly the intents it was trained on, sorted', () => {
      expect(model.labels).toEqual(['login', 'order_status', 'refund']);
    });

    it('answers the trained intents in both languages', () => {
      expect(model.classify('where is my order?').label).toBe('order_status');
      expect(model.classify('我想退款').label).toBe('refund');
      expect(model.classify('I forgot my password again').label).toBe('login');
    });

    it('gives a calibrated-looking answer: confidence in 0..1, candidates best first and summing to at most 1', () => {
      const r = model.classify('how do i get my refund');
      expect(r.confidence).toBeGreaterThanOrEqual(0);
      expect(r.confidence).toBeLessThanOrEqual(1);
      const ps = r.candidates!.map((c) => c.p);
      expect([...ps].sort((a, b) => b - a)).toEqual(ps);
      expect(ps.reduce((s, p) => s + p, 0)).toBeLessThanOrEqual(1.0001);
      expect(r.candidates![0]!.p).toBe(r.confidence);
    });

    it('says out of scope, with label oos, for a text unlike anything it knows', () => {
      const r = model.classify('what is the weather like on mars tomorrow');
      expect(r.outOfScope).toBe(true);
      expect(r.label).toBe('oos');
      expect(r.confidence).toBeLessThan(0.9);
    });

    it('never throws: empty, emoji-only, whitespace, very long and binary-looking text all get an answer', () => {
      for (const text of ['', '   ', '😡😡😡', 'a'.repeat(20_000), '\u0000\u0001\uFFFD', '订单'.repeat(5_000)]) {
        const r = model.classify(text);
        expect(typeof r.label).toBe('string');
        expect(Number.isFinite(r.confidence)).toBe(true);
      }
    });

    it('is deterministic: the same text gives the same answer', () => {
      expect(model.classify('track my parcel')).toEqual(model.classify('track my parcel'));
    });
  });
}
