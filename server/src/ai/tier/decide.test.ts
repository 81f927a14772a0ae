import { describe, expect, it } from 'vitest';
import type { Analysis, Emotion } from '../../../../common/ai/types';
import { DEFAULT_AUTO_ANSWER } from '../../config/config';
import { KbAnswerBook } from './answers';
import { decideTurn, pickedOption, unresolvedRun, type PastTurn } from './decide';
import { smallTalkOf } from './small-talk';

const book = KbAnswerBook.of([
  { id: 'e1', intent: 'order_status', lang: 'en', answer: 'Track it under My Orders.', questions: ['Where is my order?'] },
  { id: 'e2', intent: 'order_status', lang: 'zh', answer: '在「我的订单」里查看。', questions: ['我的订单到哪了'] },
  { id: 'e3', intent: 'refund_status', lang: 'en', answer: 'Refunds take 1–3 days.', questions: ['Where is my refund?'] },
  { id: 'e4', intent: 'return_policy', lang: 'en', answer: '7-day returns.', questions: ['Can I return it?'] },
]);

function analysis(over: {
  label?: string;
  confidence?: number;
  outOfScope?: boolean;
  candidates?: { label: string; p: number }[];
  emotion?: Emotion;
  intensity?: number;
  wantsHuman?: boolean;
  lang?: 'zh' | 'en';
}): Analysis {
  const label = over.label ?? 'order_status';
  const confidence = over.confidence ?? 0.9;
  return {
    lang: over.lang ?? 'en',
    intent: { label, confidence, outOfScope: over.outOfScope ?? false, candidates: over.candidates ?? [{ label, p: confidence }] },
    emotion: { label: over.emotion ?? 'neutral', intensity: over.intensity ?? 0, scores: {} as Analysis['emotion']['scores'] },
    difficulty: 20,
    factors: [],
    wantsHuman: over.wantsHuman ?? false,
    model: 'test',
  };
}

const config = DEFAULT_AUTO_ANSWER;
const decide = (text: string, a: Analysis, turns: PastTurn[] = []) => decideTurn({ text, analysis: a, state: { turns }, book, config });

describe('the AI tier decides each turn', () => {
  it('answers a confident in-scope question from the KB, in the customer language', () => {
    expect(decide('where is my order', analysis({}))).toMatchObject({ action: 'answer', answer: { entryId: 'e1' } });
    expect(decide('我的订单到哪了', analysis({ lang: 'zh' }))).toMatchObject({ action: 'answer', answer: { entryId: 'e2', lang: 'zh' } });
  });

  it('answers in the other language rather than not at all when the KB has only that one', () => {
    expect(decide('退款到哪了', analysis({ label: 'refund_status', lang: 'zh' }))).toMatchObject({
      action: 'answer',
      answer: { entryId: 'e3' },
    });
  });

  it('hands over at once when the customer asks for a person, even with a confident intent', () => {
    expect(decide('order status, or a human please', analysis({ wantsHuman: true }))).toMatchObject({
      action: 'handover',
      reason: 'customer-asked',
      intent: 'order_status',
    });
  });

  it('hands over on negative emotion at the threshold, and not below it or for positive emotion', () => {
    expect(decide('x', analysis({ emotion: 'anger', intensity: config.negativeEmotionIntensity }))).toMatchObject({
      reason: 'negative-emotion',
    });
    expect(decide('x', analysis({ emotion: 'sadness', intensity: 0.9 }))).toMatchObject({ reason: 'negative-emotion' });
    expect(decide('x', analysis({ emotion: 'anger', intensity: config.negativeEmotionIntensity - 0.01 }))).toMatchObject({
      action: 'answer',
    });
    expect(decide('x', analysis({ emotion: 'happiness', intensity: 1 }))).toMatchObject({ action: 'answer' });
  });

  it('asks one clarifying question when two intents are close, and answers the option picked', () => {
    const close = analysis({
      label: 'refund_status',
      confidence: 0.45,
      candidates: [
        { label: 'refund_status', p: 0.45 },
        { label: 'return_policy', p: 0.4 },
      ],
    });
    const asked = decide('about my return money', close);
    expect(asked).toMatchObject({ action: 'clarify', options: [{ intent: 'refund_status' }, { intent: 'return_policy' }] });
    const after: PastTurn[] = [{ kind: 'clarify', intent: 'refund_status|return_policy' }];
    expect(decide('2', analysis({ label: 'oos', outOfScope: true, confidence: 0.1 }), after)).toMatchObject({
      action: 'answer',
      answer: { intent: 'return_policy' },
    });
    // Never two clarifying questions in a row: still unsure → a person.
    expect(decide('hmm money', close, after)).toMatchObject({ action: 'handover', reason: 'low-confidence' });
  });

  it('asks only about two close intents of an in-scope text', () => {
    // 0.62 next to 0.05: not close, however much they add up to.
    const lopsided = analysis({
      label: 'refund_status',
      confidence: 0.62,
      candidates: [
        { label: 'refund_status', p: 0.62 },
        { label: 'return_policy', p: 0.05 },
      ],
    });
    expect(
      decideTurn({ text: 'x', analysis: lopsided, state: { turns: [] }, book, config: { ...config, clarifyMinCombined: 0.6 } }),
    ).toMatchObject({
      action: 'handover',
      reason: 'low-confidence',
    });
    // Out of scope ("what's the weather on Mars"): a person, not a choice between two wrong answers.
    const oos = analysis({
      label: 'oos',
      outOfScope: true,
      confidence: 0.3,
      candidates: [
        { label: 'refund_status', p: 0.4 },
        { label: 'return_policy', p: 0.35 },
      ],
    });
    expect(decide('weather on mars', oos)).toMatchObject({ action: 'handover', reason: 'low-confidence' });
  });

  it('hands over on low confidence when no two intents are close enough to ask about', () => {
    const low = analysis({
      label: 'refund_status',
      confidence: 0.35,
      candidates: [
        { label: 'refund_status', p: 0.35 },
        { label: 'return_policy', p: 0.1 },
      ],
    });
    expect(decide('blah', low)).toMatchObject({ action: 'handover', reason: 'low-confidence', intent: 'refund_status', confidence: 0.35 });
    expect(decide('quantum physics', analysis({ label: 'oos', outOfScope: true, confidence: 0.2 }))).toMatchObject({
      action: 'handover',
      reason: 'low-confidence',
      intent: null,
    });
  });

  it('hands over with an intent the KB has no answer for', () => {
    expect(decide('x', analysis({ label: 'warranty', confidence: 0.95 }))).toMatchObject({ action: 'handover', reason: 'low-confidence' });
  });

  it('counts the same question answered again as unresolved, and hands over after N unresolved turns', () => {
    // Asked a second time: the first answer did not help (1), this ask is the second unresolved turn.
    const answered: PastTurn[] = [{ kind: 'answer', intent: 'order_status' }];
    expect(unresolvedRun(answered)).toBe(0);
    expect(decide('where is my order??', analysis({}), answered)).toMatchObject({ action: 'repeat' });
    // A third time: three unresolved turns (answer, repeat, this one) → a person.
    const twice: PastTurn[] = [...answered, { kind: 'repeat', intent: 'order_status' }];
    expect(unresolvedRun(twice)).toBe(2);
    expect(decide('where is my order', analysis({}), twice)).toMatchObject({ action: 'handover', reason: 'unresolved-turns' });
    const mixed: PastTurn[] = [
      { kind: 'clarify', intent: 'a|b' },
      { kind: 'repeat', intent: 'order_status' },
    ];
    expect(unresolvedRun(mixed)).toBe(2);
    expect(decide('where is my order', analysis({}), mixed)).toMatchObject({ action: 'handover', reason: 'unresolved-turns' });
    // A new question answered resets the run.
    expect(unresolvedRun([...twice, { kind: 'answer', intent: 'refund_status' }])).toBe(0);
    expect(decide('my refund?', analysis({ label: 'refund_status' }), twice)).toMatchObject({ action: 'answer' });
    // With a limit of 5 the same customer gets more tries.
    const patient = decideTurn({
      text: 'x',
      analysis: analysis({}),
      state: { turns: twice },
      book,
      config: { ...config, maxUnresolvedTurns: 5 },
    });
    expect(patient).toMatchObject({ action: 'repeat' });
  });

  it('greets and thanks without taking a turn of the issue, but hears a question inside a greeting', () => {
    expect(decide('hello!', analysis({ label: 'oos', outOfScope: true }))).toEqual({ action: 'small-talk', kind: 'greeting' });
    expect(decide('谢谢', analysis({ label: 'oos', outOfScope: true }))).toEqual({ action: 'small-talk', kind: 'thanks' });
    expect(smallTalkOf('hi, where is my order?')).toBeNull();
    expect(smallTalkOf('你好，我的订单到哪了')).toBeNull();
    expect(smallTalkOf('在吗？')).toBe('greeting');
  });

  it('reads a pick after a clarifying question in both languages', () => {
    expect(pickedOption('1')).toBe(1);
    expect(pickedOption(' 2. ')).toBe(2);
    expect(pickedOption('第二个')).toBe(2);
    expect(pickedOption('the first one')).toBe(1);
    expect(pickedOption('12')).toBeNull();
    expect(pickedOption('1 more thing')).toBeNull();
  });
});
