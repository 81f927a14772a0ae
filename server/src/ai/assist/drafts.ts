import type { AssistSource, DraftOutcome } from '../../../../common/ai/assist';
import type { Analysis, KbEntry, Lang } from '../../../../common/ai/types';
import { graphemes } from '../../../../common/text/text';
import { adaptAnswer, fillPlaceholders, normalizeWhitespace, type Addressee } from './adapt';
import type { PastReplyHit } from './replies';

/**
 * The assisted tier's draft (issue 10): what the AI puts in the composer for the agent to review,
 * and how the agent's final text is judged against it (texts compared after `normalizeWhitespace`). Pure functions; `service.ts` stores drafts
 * (`drafts.sqlite.ts`) and publishes what happened.
 */

/** A KB answer is drafted from an in-scope intent at this calibrated confidence or above (a person reviews it). */
export const DRAFT_MIN_CONFIDENCE = 0.5;
/** Else a past agent reply is drafted when its question is at least this similar (TF-IDF cosine). */
export const DRAFT_MIN_SIMILARITY = 0.35;

/** The draft chosen for a customer message, before it is stored. */
export interface DraftChoice {
  text: string;
  source: AssistSource;
}

export interface DraftInputs {
  /** The core's analysis of the customer's latest message (null: no intent model loaded). */
  analysis: Pick<Analysis, 'intent'> | null;
  /** The KB entry of an intent in a language (the other language when that one has none), or null. */
  entryFor: (intent: string, lang: Lang) => KbEntry | null;
  /** The most similar past replies of the session's skill group, best first. */
  pastReplies: readonly PastReplyHit[];
  /** Who the draft is for (name, order and tracking numbers, language). */
  to: Addressee;
  minConfidence?: number;
  minSimilarity?: number;
}

/**
 * Picks the draft for a customer message: the KB answer of the best intent when it is in scope and
 * confident enough, adapted to the customer (`adaptAnswer`); else the most similar past reply that
 * is similar enough, its placeholders filled; else null (no draft: the agent writes from scratch).
 */
export function chooseDraft(inputs: DraftInputs): DraftChoice | null {
  const minConfidence = inputs.minConfidence ?? DRAFT_MIN_CONFIDENCE;
  const intent = inputs.analysis?.intent;
  if (intent && !intent.outOfScope && intent.confidence >= minConfidence) {
    const entry = inputs.entryFor(intent.label, inputs.to.lang);
    if (entry) {
      return {
        text: adaptAnswer(entry.answer, inputs.to),
        source: { kind: 'kb', entryId: entry.id, intent: entry.intent, confidence: round(intent.confidence) },
      };
    }
  }
  const best = inputs.pastReplies[0];
  if (best && best.similarity >= (inputs.minSimilarity ?? DRAFT_MIN_SIMILARITY)) {
    return {
      text: fillPlaceholders(best.reply.reply, inputs.to),
      source: { kind: 'past-reply', similarity: round(best.similarity), sessionId: best.reply.sessionId },
    };
  }
  return null;
}

const round = (x: number) => Math.round(Math.min(1, Math.max(0, x)) * 1000) / 1000;

/** Edit distance is computed on at most this many graphemes of each text (bounded work: 2,000² cells). */
export const EDIT_DISTANCE_MAX_GRAPHEMES = 2000;

/**
 * Levenshtein distance between two texts in grapheme clusters (an emoji or a letter with its accent
 * counts as one), each cut to EDIT_DISTANCE_MAX_GRAPHEMES.
 */
export function editDistance(a: string, b: string): number {
  const x = graphemes(a).slice(0, EDIT_DISTANCE_MAX_GRAPHEMES);
  const y = graphemes(b).slice(0, EDIT_DISTANCE_MAX_GRAPHEMES);
  if (x.length === 0) return y.length;
  if (y.length === 0) return x.length;
  let prev = new Int32Array(y.length + 1);
  let cur = new Int32Array(y.length + 1);
  for (let j = 0; j <= y.length; j++) prev[j] = j;
  for (let i = 1; i <= x.length; i++) {
    cur[0] = i;
    for (let j = 1; j <= y.length; j++) {
      const cost = x[i - 1] === y[j - 1] ? 0 : 1;
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + cost);
    }
    [prev, cur] = [cur, prev];
  }
  return prev[y.length]!;
}

/** What the agent did with a draft, and how much they changed it. */
export interface OutcomeMeasure {
  outcome: Exclude<DraftOutcome, 'discarded'>;
  /** Graphemes inserted, deleted or replaced (after white-space normalisation). */
  editDistance: number;
  /** `editDistance` over the longer text's length in graphemes, 0..1 (0 = sent as drafted). */
  editRatio: number;
}

/**
 * Judges a sent reply against its draft: `accepted` when the texts are equal after white-space
 * normalisation (`normalizeWhitespace`), else `edited`, with the grapheme edit distance and ratio.
 * The server decides this from the texts; the client only names the draft.
 */
export function classifyOutcome(draft: string, final: string): OutcomeMeasure {
  const a = normalizeWhitespace(draft);
  const b = normalizeWhitespace(final);
  if (a === b) return { outcome: 'accepted', editDistance: 0, editRatio: 0 };
  const distance = editDistance(a, b);
  const longer = Math.max(graphemes(a).length, graphemes(b).length, 1);
  return { outcome: 'edited', editDistance: distance, editRatio: Math.round(Math.min(1, distance / longer) * 1000) / 1000 };
}
