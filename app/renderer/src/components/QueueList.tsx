import { useEffect, useState } from 'react';
import { useShallow } from 'zustand/react/shallow';
import type { SlaStatus } from '../../../../common/api/sla';
import { useLocale, useWorkstation } from '../context';
import { formatCountdown, kpiStrings } from '../i18n-kpis';
import { channelName, waitedFor } from '../format';
import { visibleQueue } from '../stores/queue';
import { EmotionBadge, needsAttention } from './EmotionBadge';
import { IncomingTransfers } from './Transfer';

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
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, []);

  return (
    <nav className="queue" aria-label="Unified queue">
      <IncomingTransfers />
      <div className="queue__tabs" role="tablist">
        <button role="tab" aria-selected={filter === 'waiting'} onClick={() => setFilter('waiting')}>
          Waiting <span className="count">{counts[0]}</span>
        </button>
        <button role="tab" aria-selected={filter === 'mine'} onClick={() => setFilter('mine')}>
          My chats <span className="count">{counts[1]}</span>
        </button>
        <button role="tab" aria-selected={filter === 'ai'} onClick={() => setFilter('ai')} data-testid="tab-ai">
          With AI <span className="count">{counts[2]}</span>
        </button>
      </div>
      {items.length === 0 ? (
        <p className="queue__empty">
          {filter === 'waiting'
            ? 'No one is waiting. 🎉'
            : filter === 'ai'
              ? 'The AI is not answering anyone right now.'
              : 'No open chats.'}
        </p>
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
                    <span className={`chan chan--${s.channel}`} title={channelName(s.channel)}>
                      {s.channel}
                    </span>
                    <strong className="qitem__name" dir="auto">
                      {s.customerName}
                    </strong>
                    {unread[s.id] ? <span className="unread">{unread[s.id]}</span> : null}
                    <span className="qitem__wait">{waitedFor(s.status === 'active' ? s.lastMessageAt : s.waitingSince, now)}</span>
                  </span>
                  <span className="qitem__preview" dir="auto">
                    {s.lastMessagePreview}
                  </span>
                  <span className="qitem__tags">
                    {s.sla && s.status !== 'bot' ? <SlaChip sla={s.sla} now={now} /> : null}
                    <EmotionBadge emotion={s.emotion} />
                    {s.status === 'bot' ? (
                      <span className="withai" data-testid="with-ai">
                        with AI
                      </span>
                    ) : null}
                    {s.handover && s.status !== 'bot' ? (
                      <span
                        className={`handover${s.handover.noAgentOnline ? ' handover--left' : ''}`}
                        data-testid="handover"
                        title={`Handed over by ${s.handover.by === 'ai' ? 'the AI' : s.handover.by}: ${s.handover.reason}`}
                      >
                        {s.handover.noAgentOnline ? 'left a message' : `from AI: ${s.handover.reason.replace(/-/g, ' ')}`}
                      </span>
                    ) : null}
                    {s.tier ? (
                      <span className={`tier tier--${s.tier}`} data-testid="tier">
                        {s.tier}
                      </span>
                    ) : null}
                    {s.priority !== null ? (
                      <span className="prio" data-testid="priority">
                        P{s.priority.toFixed(0)}
                      </span>
                    ) : null}
                    <span className="group">{s.skillGroup}</span>
                  </span>
                </button>
                {s.status !== 'active' ? (
                  <span className="qitem__actions">
                    <button type="button" className="qitem__accept" onClick={() => void accept(s.id)} data-testid="accept">
                      {offered ? 'Accept offer' : s.status === 'bot' ? 'Take over' : 'Take'}
                    </button>
                    {offered ? (
                      <button type="button" className="ghost qitem__decline" onClick={() => void decline(s.id)} data-testid="decline">
                        Decline
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
          Showing the {counts[0]} most urgent of {waitingTotal} waiting.
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
  const t = kpiStrings(useLocale()).sla;
  const kind = sla.kind === 'first' ? t.first : t.next;
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
      title={t.title(kind, new Date(sla.dueAt).toLocaleString())}
    >
      {kind} {late ? t.late(formatCountdown(-left)) : formatCountdown(left)}
    </span>
  );
}

/** Seconds left on an offer; after that the router offers the contact to the next agent. */
function OfferCountdown({ expiresAt, now }: { expiresAt: string; now: number }) {
  const left = Math.max(0, Math.floor((Date.parse(expiresAt) - now) / 1000));
  return (
    <span className="countdown" title="Offered to you; it moves to the next agent when the time is up">
      {left > 0 ? `${left}s left` : 'moving on…'}
    </span>
  );
}
