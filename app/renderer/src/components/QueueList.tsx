import { memo, useState } from 'react';
import { useShallow } from 'zustand/react/shallow';
import type { SessionSummary } from '../../../../common/api/sessions';
import type { SlaStatus } from '../../../../common/api/sla';
import { useTranslation } from 'react-i18next';
import { useClock } from '../clock';
import { useLocale, useWorkstation } from '../context';
import { countdown, dateTime, waitedFor } from '../format';
import type { Locale } from '../locale';
import { queueSelectors } from '../stores/queue';
import { EmotionBadge, needsAttention } from './EmotionBadge';
import { IncomingTransfers } from './Transfer';
import { TeamList, useHeldContacts } from './collision/TeamList';
import { useCustomerName } from '../customer-name';

/**
 * The queue column. Issue 15 (500 waiting contacts): the list re-renders when the queue, offers,
 * unread counts or the open chat change, not every second; each row is memoized and re-renders only
 * when its own summary, offer, unread count or open state changes; the clocks in a row (wait, SLA,
 * offer countdown) are leaves on one shared 1 s clock (`../clock`). Rows off screen are skipped by
 * the browser's layout and paint (`content-visibility: auto`, styles.css).
 */
export function QueueList() {
  const userId = useWorkstation((s) => s.user?.id);
  const filter = useWorkstation((s) => s.queueFilter);
  const setFilter = useWorkstation((s) => s.setQueueFilter);
  const [select] = useState(queueSelectors);
  const items = useWorkstation(useShallow((s) => select.items(s, s.user?.id)));
  const counts = useWorkstation(useShallow((s) => select.counts(s.queue, s.user?.id)));
  const offers = useWorkstation((s) => s.offers);
  const waitingTotal = useWorkstation((s) => s.waitingTotal);
  const unread = useWorkstation((s) => s.unread);
  const openId = useWorkstation((s) => s.openSessionId);
  const { t } = useTranslation('desk', { keyPrefix: 'queue' });
  const { t: tk } = useTranslation('collision', { keyPrefix: 'team' });
  // Issue 15: agents and leads may read a colleague's chat of their groups and ask to take it over.
  const takesOver = useWorkstation((s) => Boolean(s.user?.roles.some((r) => r === 'agent' || r === 'lead')));
  const refreshHeld = useHeldContacts(takesOver && filter === 'team');
  const locale = useLocale();

  return (
    <nav className="queue" aria-label={t('label')}>
      <IncomingTransfers />
      <div className="queue__tabs" role="tablist">
        <button role="tab" aria-selected={filter === 'waiting'} onClick={() => setFilter('waiting')} data-testid="tab-waiting">
          {t('waiting')} <span className="count">{counts[0]}</span>
        </button>
        <button role="tab" aria-selected={filter === 'mine'} onClick={() => setFilter('mine')} data-testid="tab-mine">
          {t('mine')} <span className="count">{counts[1]}</span>
        </button>
        <button role="tab" aria-selected={filter === 'ai'} onClick={() => setFilter('ai')} data-testid="tab-ai">
          {t('ai')} <span className="count">{counts[2]}</span>
        </button>
        {takesOver ? (
          <button
            role="tab"
            aria-selected={filter === 'team'}
            onClick={() => setFilter('team')}
            data-testid="tab-team"
            title={tk('tabTitle')}
          >
            {tk('tab')}
          </button>
        ) : null}
      </div>
      {filter === 'team' && takesOver ? (
        <TeamList onRefresh={refreshHeld} />
      ) : items.length === 0 ? (
        <p className="queue__empty">{filter === 'waiting' ? t('emptyWaiting') : filter === 'ai' ? t('emptyAi') : t('emptyMine')}</p>
      ) : (
        <ul className="queue__list">
          {items.map((s) => (
            <QueueRow
              key={s.id}
              s={s}
              offered={Boolean(offers[s.id]) || (s.status === 'offered' && s.offeredAgentId === userId)}
              offerExpiresAt={offers[s.id]?.expiresAt ?? null}
              unread={unread[s.id] ?? 0}
              open={openId === s.id}
              locale={locale}
            />
          ))}
        </ul>
      )}
      {filter === 'waiting' && waitingTotal !== null && waitingTotal > counts[0] ? (
        <p className="queue__more" data-testid="queue-more">
          {t('more', { shown: counts[0], total: waitingTotal })}
        </p>
      ) : null}
    </nav>
  );
}

/** What a queue row shows; a row re-renders only when one of these changes (`memo`, shallow). */
interface QueueRowProps {
  s: SessionSummary;
  /** Offered to me (an offer in hand, or the summary says so). */
  offered: boolean;
  /** When my offer of it expires (ISO 8601), if I hold one. */
  offerExpiresAt: string | null;
  unread: number;
  open: boolean;
  locale: Locale;
}

/** One contact in the queue: open it, accept or decline it; its wait, SLA and offer clocks tick on their own. */
const QueueRow = memo(function QueueRow({ s, offered, offerExpiresAt, unread, open, locale }: QueueRowProps) {
  const { t } = useTranslation('desk', { keyPrefix: 'queue' });
  const { t: tc } = useTranslation('continuity');
  const nameOf = useCustomerName();
  const openSession = useWorkstation((st) => st.openSession);
  const accept = useWorkstation((st) => st.accept);
  const decline = useWorkstation((st) => st.decline);
  const attention = needsAttention(s.emotion);
  return (
    <li
      className={`qitem${attention ? ' qitem--attention' : ''}${open ? ' qitem--open' : ''}${offered ? ' qitem--offered' : ''}`}
      data-testid="queue-item"
      data-session-id={s.id}
      data-attention={attention || undefined}
    >
      <button type="button" className="qitem__main" onClick={() => void openSession(s.id)}>
        <span className="qitem__top">
          <span
            className={`chan chan--${s.channel}`}
            data-channel={s.channel}
            title={t('channel', { channel: tc(`channels.${s.channel}`) })}
          >
            {tc(`channels.${s.channel}`)}
          </span>
          <strong className="qitem__name" dir="auto">
            {nameOf(s.customerName)}
          </strong>
          {unread ? <span className="unread">{unread}</span> : null}
          <WaitClock since={s.status === 'active' ? s.lastMessageAt : s.waitingSince} locale={locale} />
        </span>
        <span className="qitem__preview" dir="auto">
          {s.lastMessagePreview}
        </span>
        <span className="qitem__tags">
          {s.sla && s.status !== 'bot' ? <SlaChip sla={s.sla} locale={locale} /> : null}
          <EmotionBadge emotion={s.emotion} />
          {s.status === 'bot' ? (
            <span className="withai" data-testid="with-ai">
              {t('withAi')}
            </span>
          ) : null}
          {s.handover && s.status !== 'bot' ? (
            <span
              className={`handover${s.handover.noAgentOnline ? ' handover--left' : ''}`}
              data-testid="handover"
              title={t('handedOverBy', {
                by: s.handover.by === 'ai' ? t('theAi') : s.handover.by,
                reason: t(`handoverReasons.${s.handover.reason}`),
              })}
            >
              {s.handover.noAgentOnline ? t('leftMessage') : t('fromAi', { reason: t(`handoverReasons.${s.handover.reason}`) })}
            </span>
          ) : null}
          {s.tier ? (
            <span className={`tier tier--${s.tier}`} data-testid="tier" data-tier={s.tier}>
              {t(`tiers.${s.tier}`)}
            </span>
          ) : null}
          {s.priority !== null ? (
            <span
              className="prio"
              data-testid="priority"
              data-priority={s.priority.toFixed(0)}
              title={t('priorityTitle', { value: s.priority.toFixed(0) })}
            >
              {t('priority', { value: s.priority.toFixed(0) })}
            </span>
          ) : null}
          <span className="group">{s.skillGroup}</span>
        </span>
      </button>
      {s.status !== 'active' ? (
        <span className="qitem__actions">
          <button type="button" className="qitem__accept" onClick={() => void accept(s.id)} data-testid="accept">
            {offered ? t('acceptOffer') : s.status === 'bot' ? t('takeOver') : t('accept')}
          </button>
          {offered ? (
            <button type="button" className="ghost qitem__decline" onClick={() => void decline(s.id)} data-testid="decline">
              {t('decline')}
            </button>
          ) : null}
          {offerExpiresAt ? <OfferCountdown expiresAt={offerExpiresAt} /> : null}
        </span>
      ) : null}
    </li>
  );
});

/** How long the contact has waited ("45s", "12m"), re-rendered only when that text changes. */
function WaitClock({ since, locale }: { since: string; locale: Locale }) {
  const text = useClock((now) => waitedFor(since, now, locale));
  return <span className="qitem__wait">{text}</span>;
}

/**
 * Issue 16: the countdown to the SLA due time of the response the contact waits for (first or next;
 * business hours already counted in by the server), red once it is due or breached.
 */
function SlaChip({ sla, locale }: { sla: SlaStatus; locale: Locale }) {
  const { t } = useTranslation('desk', { keyPrefix: 'queue.sla' });
  const due = sla.dueAt === null ? Number.NaN : Date.parse(sla.dueAt);
  // Whole seconds left as the chip shows them (ms, sign kept), so a tick that changes no digit re-renders nothing.
  const left = useClock((now) => {
    const ms = due - now;
    return ms > 0 ? Math.max(1, Math.floor(ms / 1000) * 1000) : ms < 0 ? Math.min(-1, Math.ceil(ms / 1000) * 1000) : 0;
  });
  const kind = sla.kind === 'first' ? t('first') : t('next');
  if (sla.dueAt === null) return null;
  const late = sla.breached || left <= 0;
  const soon = !late && left <= 60_000;
  return (
    <span
      className={`sla${late ? ' sla--late' : soon ? ' sla--soon' : ''}`}
      data-testid="sla-chip"
      data-kind={sla.kind}
      data-late={late || undefined}
      title={t('title', { kind, due: dateTime(sla.dueAt, locale) })}
    >
      {kind} {late ? t('late', { overdue: countdown(-left) }) : countdown(left)}
    </span>
  );
}

/** Seconds left on an offer; after that the router offers the contact to the next agent. */
function OfferCountdown({ expiresAt }: { expiresAt: string }) {
  const { t } = useTranslation('desk', { keyPrefix: 'queue' });
  const left = useClock((now) => Math.max(0, Math.floor((Date.parse(expiresAt) - now) / 1000)));
  return (
    <span className="countdown" title={t('offerTitle')}>
      {left > 0 ? t('offerLeft', { value: left }) : t('offerMoving')}
    </span>
  );
}
