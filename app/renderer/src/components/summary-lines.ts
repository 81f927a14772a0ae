import { useTranslation } from 'react-i18next';
import type { ConversationSummary } from '../../../../common/ai/assist';

/**
 * A conversation summary's lines in the desk's language (issue 15): an extractive summary carries its
 * `facts` (counts, hand-over reason, order and tracking numbers), which are worded here with the
 * `assist:summaryLine.*` keys; the customer's own words (`wants`) stay as they were said. A summary
 * without facts (the language model's, or one stored before facts existed) shows the server's lines.
 */
export function useSummaryLines(): (summary: ConversationSummary) => string[] {
  const { t } = useTranslation('assist', { keyPrefix: 'summaryLine' });
  const { t: td } = useTranslation('desk', { keyPrefix: 'queue' });
  return (summary) => {
    const f = summary.facts;
    if (!f) return summary.lines;
    const lines: string[] = [t('intent', { value: summary.intent ?? t('unknownIntent') })];
    if (summary.wants) lines.push(t('wants', { value: summary.wants }));
    const done: string[] = [];
    if (f.aiAnswers > 0) {
      const answered = t('aiAnswered', { count: f.aiAnswers });
      done.push(f.aiIntents.length ? t('aiAnsweredAbout', { answered, intents: f.aiIntents.join(', ') }) : answered);
    }
    if (f.handover) {
      const text = t('handedOver', { reason: td(`handoverReasons.${f.handover.reason}`) });
      done.push(f.handover.noAgentOnline ? t('noAgentOnline', { text }) : text);
    }
    if (f.agentReplies > 0) done.push(t('agentReplied', { count: f.agentReplies }));
    lines.push(t('done', { value: done.length ? done.join(t('separator')) : t('nothing') }));
    const numbers = [...f.orders.map((id) => t('order', { id })), ...f.tracking.map((id) => t('tracking', { id }))];
    if (numbers.length) lines.push(t('details', { value: numbers.join(t('separator')) }));
    return lines;
  };
}
