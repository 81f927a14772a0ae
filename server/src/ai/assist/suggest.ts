import type { Draft, Suggestion } from '../../../../common/ai/assist';
import type { Analysis, KbEntry, Lang } from '../../../../common/ai/types';
import { OUT_OF_SCOPE_INTENT } from '../../../../common/ai/types';
import { fillPlaceholders, normalizeWhitespace, type Addressee } from './adapt';
import type { PastReplyHit } from './replies';

/**
 * Suggested replies (issue 10): the top 3 for the customer's latest message, from the KB answers of
 * the intents the core considers (its top 3 candidates) and agents' past replies to similar questions
 * (same skill group), ranked together by their score (the intent's calibrated probability, the
 * question's similarity); slots left are filled with the answers of the best intent's related intents
 * (the KB's "customers asking this often ask next"). Repeats, the session's open draft and what
 * was already said in the conversation (an AI answer the customer has read) are left out. A suggestion is inserted where the agent's cursor is, so it carries no greeting: only its
 * placeholders are filled (`fillPlaceholders`). Nothing is ever sent by itself.
 */

/** How many suggestions are offered. */
export const SUGGESTIONS_MAX = 3;
/** An intent candidate below this probability suggests its answer only as a related intent would. */
export const SUGGEST_MIN_P = 0.05;
/** A past reply whose question is less similar than this is not suggested. */
export const SUGGEST_MIN_SIMILARITY = 0.25;

export interface SuggestInputs {
  analysis: Pick<Analysis, 'intent'> | null;
  entryFor: (intent: string, lang: Lang) => KbEntry | null;
  pastReplies: readonly PastReplyHit[];
  to: Addressee;
  /** The session's open AI draft: already in the composer, so not suggested again. */
  draft?: Pick<Draft, 'text' | 'source'> | null;
  /** What the AI and agents already said in the conversation: not suggested again. */
  alreadySaid?: readonly string[];
  max?: number;
}

const round = (x: number) => Math.round(x * 1000) / 1000;

/** The suggestions, best first (see the module comment). */
export function suggestReplies(inputs: SuggestInputs): Suggestion[] {
  const max = inputs.max ?? SUGGESTIONS_MAX;
  const ranked: { score: number; suggestion: Suggestion }[] = [];
  const intent = inputs.analysis?.intent;
  const candidates = (intent?.candidates ?? []).filter((c) => c.label !== OUT_OF_SCOPE_INTENT);
  const kb = (entry: KbEntry, p: number): Suggestion => ({
    text: fillPlaceholders(entry.answer, inputs.to),
    source: { kind: 'kb', entryId: entry.id, intent: entry.intent, confidence: round(p) },
  });
  for (const c of candidates) {
    const entry = c.p >= SUGGEST_MIN_P ? inputs.entryFor(c.label, inputs.to.lang) : null;
    if (entry) ranked.push({ score: c.p, suggestion: kb(entry, c.p) });
  }
  for (const hit of inputs.pastReplies) {
    if (hit.similarity < SUGGEST_MIN_SIMILARITY) continue;
    ranked.push({
      score: hit.similarity,
      suggestion: {
        text: fillPlaceholders(hit.reply.reply, inputs.to),
        source: { kind: 'past-reply', similarity: round(hit.similarity), sessionId: hit.reply.sessionId },
      },
    });
  }
  // Sorted by score; on a tie the KB answer (reviewed company text) goes first.
  ranked.sort((a, b) => b.score - a.score || (a.suggestion.source.kind === 'kb' ? -1 : 1));
  // Then the best in-scope intent's related intents, in the KB's order, after everything scored.
  if (intent && !intent.outOfScope) {
    for (const related of inputs.entryFor(intent.label, inputs.to.lang)?.related ?? []) {
      const entry = inputs.entryFor(related, inputs.to.lang);
      if (entry) ranked.push({ score: -1, suggestion: kb(entry, candidates.find((c) => c.label === related)?.p ?? 0) });
    }
  }

  const draft = inputs.draft;
  // Compared with their numbers blanked: the same reply filled with another order number was said already.
  const keyOf = (t: string) => normalizeWhitespace(t).toLowerCase().replace(/\d+/g, '#');
  const seen = new Set<string>([...(draft ? [draft.text] : []), ...(inputs.alreadySaid ?? [])].map(keyOf));
  const out: Suggestion[] = [];
  for (const { suggestion } of ranked) {
    const key = keyOf(suggestion.text);
    if (!key || seen.has(key)) continue;
    if (draft?.source.kind === 'kb' && suggestion.source.kind === 'kb' && suggestion.source.entryId === draft.source.entryId) continue;
    seen.add(key);
    out.push(suggestion);
    if (out.length === max) break;
  }
  return out;
}
