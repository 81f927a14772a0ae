import { useEffect, useState } from 'react';
import { useShallow } from 'zustand/react/shallow';
import type { SlaStatus } from '../../../../common/api/sla';
import { useTranslation } from 'react-i18next';
import { useLocale, useWorkstation } from '../context';
import { countdown, dateTime, waitedFor } from '../format';
import { visibleQueue } from '../stores/queue';
import { EmotionBadge, needsAttention } from './EmotionBadge';
import { IncomingTransfers } from './Transfer';
import { useCustomerName } from '../customer-name';

export function QueueList() {
  const userId = useWorkstation((s) => s.user?.id);
  const filter = useWorkstation((s) => s.queueFilter);
  const setFilter = useWorkstation((s) => s.setQueueFilter);
  const items = useWorkstation(useShallow((s) => visibleQueue(s, s.user?.id)));
  const counts = useWorkstation(
    useShallow((s) => {
      const all = Object.values(s.queue);
      return [
        all.filter((x) => x.status === 'queued' || x.status === 'offered').length,
        all.filter((x) => x.status === 'active' && x.assignedAgentId === s.user?.id).length,
        all.filter((x) => x.status === 'bot').length,
      ] as const;
    }),
  );
  const offers = useWorkstation((s) => s.offers);
  const waitingTotal = useWorkstation((s) => s.waitingTotal);
  const unread = useWorkstation((s) => s.unread);
  const openId = useWorkstation((s) => s.openSessionId);
  const openSession = useWorkstation((s) => s.openSession);
  const accept = useWorkstation((s) => s.accept);
  const decline = useWorkstation((s) => s.decline);
  const { t } = useTranslation('desk', { keyPrefix: 'queue' });
  const { t: tc } = useTranslation('continuity');
  const nameOf = useCustomerName();
  const locale = useLocale();
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, []);

  return (
    <nav className="queue" aria-label={t('label')}>
      <IncomingTransfers />
      <div className="queue__tabs" role="tablist">
        <button role="tab" aria-selected={filter === 'waiting'} onClick={() => setFilter('waiting')}>
          {t('waiting')} <span className="count">{counts[0]}</span>
        </button>
        <button role="tab" aria-selected={filter === 'mine'} onClick={() => setFilter('mine')}>
          {t('mine')} <span className="count">{counts[1]}</span>
        </button>
        <button role="tab" aria-selected={filter === 'ai'} onClick={() => setFilter('ai')} data-testid="tab-ai">
          {t('ai')} <span className="count">{counts[2]}</span>
        </button>
      </div>
      {items.length === 0 ? (
        <p className="queue__empty">{filter === 'waiting' ? t('emptyWaiting') : filter === 'ai' ? t('emptyAi') : t('emptyMine')}</p>
      ) : (
        <ul className="queue__list">
          {items.map((s) => {
            const offered = Boolean(offers[s.id]) || (s.status === 'offered' && s.offeredAgentId === userId);
            const attention = needsAttention(s.emotion);
            return (
              <li
                key={s.id}
                className={`qitem${attention ? ' qitem--attention' : ''}${openId === s.id ? ' qitem--open' : ''}${offered ? ' qitem--offered' : ''}`}
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
                    {unread[s.id] ? <span className="unread">{unread[s.id]}</span> : null}
                    <span className="qitem__wait">{waitedFor(s.status === 'active' ? s.lastMessageAt : s.waitingSince, now, locale)}</span>
                  </span>
                  <span className="qitem__preview" dir="auto">
                    {s.lastMessagePreview}
                  </span>
                  <span className="qitem__tags">
                    {s.sla && s.status !== 'bot' ? <SlaChip sla={s.sla} now={now} /> : null}
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
                    {offers[s.id]?.expiresAt ? <OfferCountdown expiresAt={offers[s.id]!.expiresAt} now={now} /> : null}
                  </span>
                ) : null}
              </li>
            );
          })}
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

/**
 * Issue 16: the countdown to the SLA due time of the response the contact waits for (first or next;
 * business hours already counted in by the server), red once it is due or breached.
 */
function SlaChip({ sla, now }: { sla: SlaStatus; now: number }) {
  const { t } = useTranslation('desk', { keyPrefix: 'queue.sla' });
  const locale = useLocale();
  const kind = sla.kind === 'first' ? t('first') : t('next');
  if (sla.dueAt === null) return null;
  const left = Date.parse(sla.dueAt) - now;
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
function OfferCountdown({ expiresAt, now }: { expiresAt: string; now: number }) {
  const { t } = useTranslation('desk', { keyPrefix: 'queue' });
  const left = Math.max(0, Math.floor((Date.parse(expiresAt) - now) / 1000));
  return (
    <span className="countdown" title={t('offerTitle')}>
      {left > 0 ? t('offerLeft', { value: left }) : t('offerMoving')}
    </span>
  );
}
