import { NEGATIVE_EMOTIONS, type EmotionResult, type Lang } from '../../../common/ai/types';
import type { Reason } from '../../../common/routing/types';
import type { IntentPrediction } from './intent';
import { detectLang, normalizeText, tokenize } from './text';
import { NEGATORS } from './data/emotion-lexicon';
import { escapeRegExp } from './lexicon';

/**
 * Difficulty 0–100 from the language core's reading of a message (issue 9, DESIGN §5): how far it is
 * from what the knowledge base answers (out of scope, low confidence margin, several intents at
 * once), how long and detailed it is, negation, negative emotion, an explicit request for a person,
 * plus channel and repeat contact. Each factor is a `Reason` the routing explanation shows, and the
 * score is their sum (capped at 100). Each carries a stable code with numeric / identifier params
 * (issue 15: `routing:reasons.<code>` in the desk; `core-*`, and the `difficulty-*` codes it shares
 * with the surface scorer); intent params are KB intent ids, emotion params emotion labels.
 */

export interface DifficultyInputs {
  text: string;
  intent: IntentPrediction;
  emotion: EmotionResult;
  wantsHuman: boolean;
  /** Channel code (DESIGN §3); `SP` (voice) is harder to serve. */
  channel?: string;
  /** Contacts in the last 30 days, this one included. */
  contacts30d?: number;
  /** The text's language when the caller knows it (else detected). */
  lang?: Lang;
}

/** The most each factor adds. Sum of the maxima is above 100 on purpose: the score is capped. */
export const DIFFICULTY_POINTS = {
  base: 5,
  outOfScope: 30,
  ambiguity: 10,
  multiIntent: 15,
  length: 8,
  entities: 8,
  negation: 4,
  negativeEmotion: 25,
  wantsHuman: 40,
  voice: 15,
  repeat: 10,
} as const;

// A run of question marks is one question ("where is it???"); "another"/"plus" name things, not questions.
const ISSUE_SPLIT = /[?？]+|\b(?:also|and also|besides|as well as)\b|另外|还有|以及|并且|顺便|再问/giu;
const ENTITY = /\d{4,}|\d+(?:\.\d+)?\s*(?:元|块|yuan|rmb|usd|eur|\$|¥|￥)|[$¥￥€£]\s*\d+|\b[a-z]{2,}\d{3,}\b|@|https?:\/\//giu;
const clamp01 = (x: number) => Math.min(1, Math.max(0, x));
const round2 = (x: number) => Math.round(x * 100) / 100;
const NEGATION = {
  zh: new RegExp(NEGATORS.zh.map(escapeRegExp).join('|'), 'gu'),
  en: new RegExp(`\\b(?:${NEGATORS.en.map(escapeRegExp).join('|')})\\b|n't\\b`, 'giu'),
};

/** Difficulty of one message with its factors (`reasons`), 0..100. */
export function assessDifficulty(inputs: DifficultyInputs): { score: number; reasons: Reason[] } {
  const { intent, emotion } = inputs;
  const P = DIFFICULTY_POINTS;
  const norm = normalizeText(inputs.text);
  const lang = inputs.lang ?? detectLang(norm);
  const chars = [...inputs.text].length;
  const words = tokenize(norm.slice(0, 4000)).words.length;
  const oos = intent.outOfScope ? 1 : clamp01(Math.max(intent.oosProbability, 1 - intent.confidence));
  // Unsure between two intents, or between everything (out of scope): either way a person may be needed.
  const ambiguity = clamp01(1 - intent.margin);
  const questions = (norm.match(ISSUE_SPLIT) ?? []).length;
  const issues = Math.max(1, intent.likelyIntents, questions);
  const entities = (norm.match(ENTITY) ?? []).length;
  const negations = (norm.match(NEGATION[lang]) ?? []).length;
  const negative = NEGATIVE_EMOTIONS.includes(emotion.label) ? emotion.intensity : 0;
  const voice = inputs.channel === 'SP';
  const repeat = (inputs.contacts30d ?? 1) >= 2;
  const reasons: Reason[] = [
    { factor: 'base', points: P.base, note: 'baseline', code: 'difficulty-base' },
    {
      factor: 'out-of-scope',
      value: round2(oos),
      points: round2(P.outOfScope * oos),
      note: intent.outOfScope
        ? `not in the knowledge base (best intent ${intent.candidates?.[0]?.label ?? '—'} at ${round2(intent.confidence)})`
        : `intent ${intent.label} at confidence ${round2(intent.confidence)}`,
      ...(intent.outOfScope
        ? intent.candidates?.[0]
          ? { code: 'core-out-of-scope', params: { intent: intent.candidates[0].label, confidence: round2(intent.confidence) } }
          : { code: 'core-out-of-scope-none', params: { confidence: round2(intent.confidence) } }
        : { code: 'core-intent', params: { intent: intent.label, confidence: round2(intent.confidence) } }),
    },
    {
      factor: 'ambiguity',
      value: round2(ambiguity),
      points: round2(P.ambiguity * ambiguity),
      note: `margin ${round2(intent.margin)} between the two likeliest intents`,
      code: 'core-ambiguity',
      params: { margin: round2(intent.margin) },
    },
    {
      factor: 'issues',
      value: issues,
      points: Math.min(P.multiIntent, (issues - 1) * 7.5),
      note: `${issues} distinct question(s) (${intent.likelyIntents} likely intent(s), ${questions} question mark(s) or joiners)`,
      code: 'core-issues',
      params: { count: issues, intents: intent.likelyIntents, questions },
    },
    {
      factor: 'length',
      value: round2(clamp01(chars / 400)),
      points: round2(P.length * clamp01(chars / 400)),
      note: `${chars} characters, ${words} words`,
      code: 'core-length',
      params: { count: chars, words },
    },
    {
      factor: 'entities',
      value: entities,
      points: Math.min(P.entities, entities * 3),
      note: `${entities} order numbers, amounts, codes or links`,
      code: 'core-entities',
      params: { count: entities },
    },
    {
      factor: 'negation',
      value: negations,
      points: Math.min(P.negation, negations * 2),
      note: `${negations} negation(s)`,
      code: 'core-negation',
      params: { count: negations },
    },
    {
      factor: 'negative-emotion',
      value: round2(negative),
      points: round2(P.negativeEmotion * negative),
      note: negative > 0 ? `${emotion.label} at intensity ${round2(emotion.intensity)}` : `${emotion.label} (not negative)`,
      ...(negative > 0
        ? { code: 'core-negative-emotion', params: { emotion: emotion.label, intensity: round2(emotion.intensity) } }
        : { code: 'core-emotion-not-negative', params: { emotion: emotion.label } }),
    },
    {
      factor: 'wants-human',
      value: inputs.wantsHuman ? 1 : 0,
      points: inputs.wantsHuman ? P.wantsHuman : 0,
      note: inputs.wantsHuman ? 'asks for a person' : 'no request for a person',
      code: inputs.wantsHuman ? 'core-wants-human' : 'core-no-human-request',
    },
    {
      factor: 'channel',
      points: voice ? P.voice : 0,
      note: voice ? 'voice is harder to serve' : 'text channel',
      code: voice ? 'difficulty-voice' : 'difficulty-text',
    },
    {
      factor: 'repeat-contact',
      points: repeat ? P.repeat : 0,
      note: repeat ? 'contacted us again within 30 days' : 'first contact in 30 days',
      code: repeat ? 'difficulty-repeat' : 'difficulty-first-contact',
    },
  ];
  const score = Math.min(
    100,
    reasons.reduce((s, r) => s + (r.points ?? 0), 0),
  );
  return { score: round2(score), reasons };
}
