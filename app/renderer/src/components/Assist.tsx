import { useEffect } from 'react';
import type { AssistSource, ConversationSummary, Draft } from '../../../../common/ai/assist';
import type { MessageView } from '../../../../common/api/sessions';
import { useTranslation } from 'react-i18next';
import type { TFunction } from 'i18next';
import { useWorkstation } from '../context';
import { useSummaryLines } from './summary-lines';
import { shownSessionId } from '../stores/shown';

/**
 * AI assistance in the conversation view (issue 10): the draft banner over the composer, the strip
 * of suggested replies, the summary card of a handed-over conversation, and the mark on AI messages.
 * Nothing here sends a message: the agent reviews and sends with the composer.
 */

/** Where a draft or suggestion comes from, as its label says it (`t`: the `assist` namespace's). */
export function sourceLabel(source: AssistSource, kind: 'draft' | 'chip', t: TFunction<'assist'>): string {
  if (source.kind === 'kb')
    return kind === 'draft' ? t('draftFromKb', { intent: source.intent }) : t('suggestionKb', { intent: source.intent });
  return kind === 'draft' ? t('draftFromPast') : t('suggestionPast');
}

/** Over the composer while it holds the AI draft: what it is, where it comes from, and a Discard button. */
export function AiDraftBanner({ draft, onDiscard }: { draft: Pick<Draft, 'source'>; onDiscard: () => void }) {
  const { t } = useTranslation('assist');
  return (
    <div className="ai-draft" role="status" data-testid="ai-draft-banner">
      <span className="ai-mark" aria-hidden="true">
        {t('aiMark')}
      </span>
      <strong>{t('draftBanner')}</strong>
      <span className="muted small">{sourceLabel(draft.source, 'draft', t)}</span>
      <button type="button" className="ghost ai-draft__discard" onClick={onDiscard} data-testid="discard-draft">
        {t('discard')}
      </button>
    </div>
  );
}

/**
 * Up to three suggested replies for the customer's latest message (`latest`), loaded when it changes.
 * A click hands the text to `onInsert`; nothing is sent.
 */
export function SuggestionStrip({ latest, onInsert }: { latest: MessageView | undefined; onInsert: (text: string) => void }) {
  const { t } = useTranslation('assist');
  // The conversation on screen (suggestions for one being opened meanwhile are not its).
  const sessionId = useWorkstation(shownSessionId);
  const suggestions = useWorkstation((s) => s.suggestions);
  const load = useWorkstation((s) => s.loadSuggestions);
  const latestId = latest?.id;
  useEffect(() => {
    if (latestId) void load(latestId);
  }, [sessionId, latestId, load]);
  if (!latestId || suggestions?.sessionId !== sessionId || suggestions.forMessageId !== latestId || suggestions.items.length === 0) {
    return null;
  }
  return (
    <div className="suggestions" aria-label={t('suggestions')} data-testid="suggestions">
      <span className="suggestions__title">{t('suggestions')}</span>
      {suggestions.items.map((s, i) => (
        <button
          key={`${i}-${s.text.slice(0, 16)}`}
          type="button"
          className={`chip chip--${s.source.kind}`}
          title={`${t('insertHint')}\n\n${s.text}`}
          onClick={() => onInsert(s.text)}
          data-testid="suggestion"
          data-source={s.source.kind}
        >
          <span className="chip__source">{sourceLabel(s.source, 'chip', t)}</span>
          <span className="chip__text" dir="auto">
            {s.text}
          </span>
        </button>
      ))}
    </div>
  );
}

/** The summary made when the contact left the AI for a person (or on demand): a few lines at the top. */
export function SummaryCard({ summary }: { summary: ConversationSummary }) {
  const { t } = useTranslation('assist');
  const linesOf = useSummaryLines();
  return (
    <section className="summary-card" data-testid="handover-summary" aria-label={t('summaryTitle')}>
      <div className="summary-card__head">
        <span className="ai-mark" aria-hidden="true">
          {t('aiMark')}
        </span>
        <strong>{t('summaryTitle')}</strong>
        <span className="muted small">{t(`summaryBy.${summary.by}`)}</span>
      </div>
      {linesOf(summary).map((line, i) => (
        <p key={i} dir="auto">
          {line}
        </p>
      ))}
    </section>
  );
}

/** The "AI" mark on a message the AI wrote (every AI message is marked to staff, issue 10). */
export function AuthorMark({ author }: { author: MessageView['author'] }) {
  const { t } = useTranslation('assist');
  if (author !== 'ai') return null;
  return (
    <span className="ai-mark" title={t('aiMarkTitle')} data-testid="ai-mark">
      {t('aiMark')}
    </span>
  );
}

/** Inserts `text` at the textarea's cursor (or after what is there), as one paragraph of its own. */
export function insertAt(current: string, text: string, cursor: number | null): { value: string; cursor: number } {
  const at = cursor === null || cursor > current.length ? current.length : cursor;
  const before = current.slice(0, at);
  const after = current.slice(at);
  const lead = before && !before.endsWith('\n') ? '\n' : '';
  const trail = after && !after.startsWith('\n') ? '\n' : '';
  const value = `${before}${lead}${text}${trail}${after}`;
  return { value, cursor: before.length + lead.length + text.length };
}
