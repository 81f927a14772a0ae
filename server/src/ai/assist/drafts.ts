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

/**
 * The part of two texts that differs is compared on at most this many graphemes of each (bounded work
 * on the sockets' thread: at most 1,000² cells, ~5 ms; a longer rewrite counts as at least its excess).
 */
export const EDIT_DISTANCE_MAX_GRAPHEMES = 1000;

/** Whether the code unit at `i` continues the grapheme before it (a low surrogate, a mark, a joiner, a variation selector). */
function continues(text: string, i: number): boolean {
  const c = text.charCodeAt(i);
  if (Number.isNaN(c)) return false;
  if ((c >= 0xdc00 && c <= 0xdfff) || c === 0x200c || c === 0x200d || (c >= 0xfe00 && c <= 0xfe0f)) return true;
  return /\p{M}/u.test(text[i]!);
}

/**
 * Levenshtein distance between two texts in grapheme clusters (an emoji or a letter with its accent
 * counts as one). The common start and end are skipped first (an agent who adds a sentence or fixes a
 * word costs next to nothing); what remains is compared on at most EDIT_DISTANCE_MAX_GRAPHEMES of each,
 * plus the length beyond that (a lower bound for very long rewrites).
 */
export function editDistance(a: string, b: string): number {
  // The common start and end are cut on code units first (segmenting is the slow part), backed off to a
  // character that begins a grapheme, then the rest is segmented and trimmed again by grapheme.
  let p = 0;
  while (p < a.length && p < b.length && a.charCodeAt(p) === b.charCodeAt(p)) p++;
  while (p > 0 && (continues(a, p) || continues(b, p))) p--;
  let q = 0;
  while (q < a.length - p && q < b.length - p && a.charCodeAt(a.length - 1 - q) === b.charCodeAt(b.length - 1 - q)) q++;
  while (q > 0 && (continues(a, a.length - q) || continues(b, b.length - q))) q--;
  let x = graphemes(a.slice(p, a.length - q));
  let y = graphemes(b.slice(p, b.length - q));
  let start = 0;
  while (start < x.length && start < y.length && x[start] === y[start]) start++;
  let end = 0;
  while (end < x.length - start && end < y.length - start && x[x.length - 1 - end] === y[y.length - 1 - end]) end++;
  x = x.slice(start, x.length - end);
  y = y.slice(start, y.length - end);
  const beyond = Math.abs(Math.max(x.length, EDIT_DISTANCE_MAX_GRAPHEMES) - Math.max(y.length, EDIT_DISTANCE_MAX_GRAPHEMES));
  x = x.slice(0, EDIT_DISTANCE_MAX_GRAPHEMES);
  y = y.slice(0, EDIT_DISTANCE_MAX_GRAPHEMES);
  if (x.length === 0) return y.length + beyond;
  if (y.length === 0) return x.length + beyond;
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
  return prev[y.length]! + beyond;
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
