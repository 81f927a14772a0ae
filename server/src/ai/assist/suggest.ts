import type { Suggestion } from '../../../../common/ai/assist';
import type { Analysis, KbEntry, Lang } from '../../../../common/ai/types';
import { OUT_OF_SCOPE_INTENT } from '../../../../common/ai/types';
import { adaptAnswer, fillPlaceholders, normalizeWhitespace, type Addressee } from './adapt';
import type { PastReplyHit } from './replies';

/**
 * Suggested replies (issue 10): the top 3 for the customer's latest message, from two sources — the
 * KB answers of the intents the core considers (its top 3 candidates) and agents' past replies to
 * similar questions (same skill group) — each adapted to the customer, ranked together by their
 * score (the intent's calibrated probability, the question's similarity), repeats removed. One
 * click in the workstation inserts a suggestion; nothing is ever sent by itself.
 */

/** How many suggestions are offered. */
export const SUGGESTIONS_MAX = 3;
/** An intent candidate below this probability suggests nothing (a guess, not a reply). */
export const SUGGEST_MIN_P = 0.1;
/** A past reply whose question is less similar than this is not suggested. */
export const SUGGEST_MIN_SIMILARITY = 0.25;

export interface SuggestInputs {
  analysis: Pick<Analysis, 'intent'> | null;
  entryFor: (intent: string, lang: Lang) => KbEntry | null;
  pastReplies: readonly PastReplyHit[];
  to: Addressee;
  max?: number;
}

/** The suggestions, best first (see the module comment). */
export function suggestReplies(inputs: SuggestInputs): Suggestion[] {
  const max = inputs.max ?? SUGGESTIONS_MAX;
  const ranked: { score: number; suggestion: Suggestion }[] = [];
  const candidates = inputs.analysis?.intent.candidates ?? [];
  for (const c of candidates) {
    if (c.label === OUT_OF_SCOPE_INTENT || c.p < SUGGEST_MIN_P) continue;
    const entry = inputs.entryFor(c.label, inputs.to.lang);
    if (!entry) continue;
    const p = Math.round(c.p * 1000) / 1000;
    ranked.push({
      score: c.p,
      suggestion: {
        text: adaptAnswer(entry.answer, inputs.to),
        source: { kind: 'kb', entryId: entry.id, intent: entry.intent, confidence: p },
      },
    });
  }
  for (const hit of inputs.pastReplies) {
    if (hit.similarity < SUGGEST_MIN_SIMILARITY) continue;
    ranked.push({
      score: hit.similarity,
      suggestion: {
        text: fillPlaceholders(hit.reply.reply, inputs.to),
        source: { kind: 'past-reply', similarity: Math.round(hit.similarity * 1000) / 1000, sessionId: hit.reply.sessionId },
      },
    });
  }
  // Sorted by score; on a tie the KB answer (reviewed company text) goes first.
  ranked.sort((a, b) => b.score - a.score || (a.suggestion.source.kind === 'kb' ? -1 : 1));
  const seen = new Set<string>();
  const out: Suggestion[] = [];
  for (const { suggestion } of ranked) {
    const key = normalizeWhitespace(suggestion.text).toLowerCase();
    if (!key || seen.has(key)) continue;
    seen.add(key);
    out.push(suggestion);
    if (out.length === max) break;
  }
  return out;
}
