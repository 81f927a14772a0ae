import { NEGATIVE_EMOTIONS, type Analysis, type Lang } from '../../../../common/ai/types';
import type { HandoverReason } from '../../../../common/ai/assist';
import type { AutoAnswerConfig } from '../../config/config';
import { smallTalkOf, type SmallTalk } from './small-talk';

/**
 * What the AI tier did in an earlier turn, as its stored message's `meta.ai` says (the conversation
 * itself is the AI's memory: durable, the same on every node, nothing kept beside it).
 */
export type AiTurnKind = 'answer' | 'clarify' | 'repeat' | 'greet' | 'thanks';

/** An earlier AI turn of this conversation, newest last. */
export interface PastTurn {
  kind: AiTurnKind;
  /** The intent answered or, for `clarify`, the two intents offered (`a|b`). */
  intent: string | null;
}

/** The conversation so far, as far as the AI tier's rules need it. */
export interface TurnState {
  /** The AI's turns since the contact came to it, oldest first. */
  turns: readonly PastTurn[];
}

/** A knowledge-base answer the AI can send, in the customer's language where the KB has it. */
export interface KbAnswer {
  entryId: string;
  intent: string;
  lang: Lang;
  answer: string;
  /** A short name for the intent in a clarifying question: its entry's first question. */
  title: string;
}

/** The KB answers by intent (see `answers.ts`). */
export interface AnswerBook {
  answerFor(intent: string, lang: Lang): KbAnswer | null;
}

export type TurnDecision =
  /** `confidence`: the intent's, 0..1; null for the option the customer picked after a clarifying question. */
  | { action: 'answer'; answer: KbAnswer; confidence: number | null }
  /** The customer asked the same thing again after it was answered: the answer did not help. */
  | { action: 'repeat'; answer: KbAnswer; confidence: number }
  | { action: 'clarify'; options: [KbAnswer, KbAnswer] }
  | { action: 'small-talk'; kind: SmallTalk }
  | { action: 'handover'; reason: HandoverReason; intent: string | null; confidence: number | null };

/**
 * Unresolved turns at the end of `turns`: clarifying questions and repeated answers in a row, plus
 * the answer a repeat repeated (the customer asking again says it did not help). A greeting or an
 * answer to a new question ends the run.
 */
export function unresolvedRun(turns: readonly PastTurn[]): number {
  let i = turns.length - 1;
  while (i >= 0 && (turns[i]!.kind === 'clarify' || turns[i]!.kind === 'repeat')) i--;
  const run = turns.length - 1 - i;
  const repeated = turns[i + 1]?.kind === 'repeat' && turns[i]?.kind === 'answer' && turns[i]!.intent === turns[i + 1]!.intent;
  return run + (repeated ? 1 : 0);
}

/** Two intents are close when the second is at least this share of the first's confidence. */
export const CLOSE_RATIO = 0.5;

/** "1", "2", "第一个", "the second one" …: the customer's pick after a clarifying question (1 or 2), else null. */
export function pickedOption(text: string): 1 | 2 | null {
  const t = text.trim().toLowerCase();
  if (/^(?:1|①|一|第一个?|first|the first( one)?|option 1|#1)[.!。！\s]*$/.test(t)) return 1;
  if (/^(?:2|②|二|第二个?|second|the second( one)?|option 2|#2)[.!。！\s]*$/.test(t)) return 2;
  return null;
}

/**
 * The AI tier's rule for one customer turn (DESIGN §5 `ai`; issue 10), first match wins:
 * 1. the customer asks for a person → hand over (`customer-asked`);
 * 2. negative emotion (anger, disgust, fear, sadness) at `negativeEmotionIntensity` or more → hand over;
 * 3. the answer to a clarifying question ("1"/"2") → that option's answer;
 * 4. a greeting or thanks with no question in it → small talk (not a turn of the issue);
 * 5. an in-scope intent at `minConfidence` or more with a KB answer → the answer; the same intent
 *    answered just before → `repeat` (the answer did not help: an unresolved turn);
 * 6. below that, an in-scope text whose two best intents have KB answers, confidences summing to
 *    `clarifyMinCombined` or more and the second at least half the first (close), and no clarifying
 *    question just before → ask which one (one clarifying question, never two in a row);
 * 7. otherwise → hand over (`low-confidence`).
 * Any answer, repeat or clarification that would make `maxUnresolvedTurns` unresolved turns in a row
 * hands over instead (`unresolved-turns`). The rule never returns the customer to the AI after a hand-over:
 * the caller stops asking once the session left the AI.
 */
export function decideTurn(input: {
  text: string;
  analysis: Analysis;
  state: TurnState;
  book: AnswerBook;
  config: Pick<AutoAnswerConfig, 'minConfidence' | 'clarifyMinCombined' | 'maxUnresolvedTurns' | 'negativeEmotionIntensity'>;
}): TurnDecision {
  const { analysis, state, book, config } = input;
  const { intent, emotion, lang } = analysis;
  const best = intent.outOfScope ? null : intent.label;
  const handover = (reason: HandoverReason): TurnDecision => ({
    action: 'handover',
    reason,
    intent: best,
    confidence: best ? intent.confidence : null,
  });
  if (analysis.wantsHuman) return handover('customer-asked');
  if (NEGATIVE_EMOTIONS.includes(emotion.label) && emotion.intensity >= config.negativeEmotionIntensity)
    return handover('negative-emotion');

  const last = state.turns.at(-1);
  const unresolved = unresolvedRun(state.turns);
  /**
   * This turn is unresolved too (`alsoFailed`: the answer just before it, now asked again): at
   * `maxUnresolvedTurns` unresolved turns in a row the customer goes to a person instead.
   */
  const unresolvedTurn = (decision: TurnDecision, alsoFailed = 0): TurnDecision =>
    unresolved + alsoFailed + 1 >= config.maxUnresolvedTurns ? handover('unresolved-turns') : decision;

  if (last?.kind === 'clarify' && last.intent) {
    const pick = pickedOption(input.text);
    if (pick) {
      const chosen = last.intent.split('|')[pick - 1];
      const answer = chosen ? book.answerFor(chosen, lang) : null;
      if (answer) return { action: 'answer', answer, confidence: null };
    }
  }

  const talk = smallTalkOf(input.text);
  if (talk) return { action: 'small-talk', kind: talk };

  if (best && intent.confidence >= config.minConfidence) {
    const answer = book.answerFor(best, lang);
    if (answer) {
      const answeredJustBefore = (last?.kind === 'answer' || last?.kind === 'repeat') && last.intent === best;
      if (!answeredJustBefore) return { action: 'answer', answer, confidence: intent.confidence };
      return unresolvedTurn({ action: 'repeat', answer, confidence: intent.confidence }, last.kind === 'answer' ? 1 : 0);
    }
  }

  // Two close intents: together likely enough, the second at least half as likely as the first, and
  // the text in scope (a question the KB does not cover is not narrowed down to two wrong answers).
  if (last?.kind !== 'clarify' && !intent.outOfScope) {
    const [a, b] = (intent.candidates ?? []).filter((c) => c.label !== 'oos');
    if (a && b && a.p + b.p >= config.clarifyMinCombined && b.p >= a.p * CLOSE_RATIO) {
      const first = book.answerFor(a.label, lang);
      const second = book.answerFor(b.label, lang);
      if (first && second) return unresolvedTurn({ action: 'clarify', options: [first, second] });
    }
  }
  return handover('low-confidence');
}
