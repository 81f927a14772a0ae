import { useContext, useEffect, useRef, useState, type FormEvent, type KeyboardEvent } from 'react';
import { MAX_TEXT_LENGTH, textOf } from '../../../../../common/message/envelope';
import { TRANSFER_EVENT_NAME } from '../../../../../common/api/transfers';
import { hasVisibleText } from '../../../../../common/text/text';
import { useWorkstation } from '../../context';
import { useFormat } from '../../format';
import { StaffContext, staffName } from '../../staff';
import { AuthorMark } from '../Assist';
import { TransferRecordLine } from '../Transfer';
import { NoteLine, isNote } from './NoteLine';
import { AskTakeover } from '../collision/ReadOnlyComposer';
import { sendsOnEnter } from '../ime';
import './supervision.css';
import type { TFunction } from 'i18next';
import { useTranslation } from 'react-i18next';
import { hasKey } from '../../locale-format';
import { en } from '../../locales/supervision';
import { useCustomerName } from '../../customer-name';

/** An error's words for the supervision views: the code's own line, else the fallback. */
export function supervisionErrorText(t: TFunction<'supervision'>, code: string | null | undefined): string {
  return hasKey(en.errors, code) ? t(`errors.${code}`) : t('errors.fallback');
}

/**
 * One conversation as a lead supervises it (issue 16): the timeline read-only and live (no reply
 * composer), a whisper box to the agent, a barge-in toggle that turns it into a message to the
 * customer, reassign (another agent of the group, or back to the queue), and the group's agents with
 * their state. Every act is checked and audited by the server.
 */
export function SupervisionView() {
  const { t } = useTranslation('supervision');
  const { t: tc } = useTranslation('collision');
  const nameOf = useCustomerName();
  const fmt = useFormat();
  const detail = useWorkstation((s) => s.supervised);
  const meId = useWorkstation((s) => s.user?.id ?? null);
  // Issue 15: a lead who handles contacts may ask the holder to hand this one over (the server checks the group).
  const takesOver = useWorkstation((s) => Boolean(s.user?.roles.some((r) => r === 'agent' || r === 'lead')));
  const error = useWorkstation((s) => s.supervisionError);
  const agents = useWorkstation((s) => s.supervisedAgents);
  const close = useWorkstation((s) => s.closeSupervision);
  const whisper = useWorkstation((s) => s.whisper);
  const barge = useWorkstation((s) => s.barge);
  const reassign = useWorkstation((s) => s.reassign);
  const setAgentPresence = useWorkstation((s) => s.setAgentPresence);
  const staff = useContext(StaffContext);
  const [text, setText] = useState('');
  const [barging, setBarging] = useState(false);
  const [target, setTarget] = useState('queue');
  const [done, setDone] = useState(false);
  const listRef = useRef<HTMLOListElement>(null);
  const newest = detail?.messages.at(-1)?.id;
  useEffect(() => {
    listRef.current?.scrollTo({ top: listRef.current.scrollHeight });
  }, [newest]);

  // A whisper goes to the agent holding the contact: none while it waits or is with the AI (the server says NO_AGENT_ASSIGNED).
  const noAgent = !barging && !(detail?.status === 'active' && detail.assignedAgentId);
  const submit = async (e?: FormEvent) => {
    e?.preventDefault();
    const value = text.trim();
    if (!hasVisibleText(value) || noAgent) return;
    const ok = barging ? await barge(value) : await whisper(value);
    if (ok) setText('');
  };
  const onKey = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    if (sendsOnEnter(e)) {
      e.preventDefault();
      void submit();
    }
  };
  const groupAgents = detail ? agents.filter((a) => a.skillGroups.includes(detail.skillGroup) && a.id !== detail.assignedAgentId) : [];
  const holder = detail?.assignedAgentId ? agents.find((a) => a.id === detail.assignedAgentId) : undefined;

  return (
    <div className="supervision-wrap" data-testid="supervision-view">
      <p>
        <button type="button" className="linklike" onClick={() => void close()} data-testid="supervise-back">
          {t('back')}
        </button>
      </p>
      {error ? (
        <p className="error" role="alert" data-testid="supervision-error">
          {supervisionErrorText(t, error)}
        </p>
      ) : null}
      {detail ? (
        <div className="supervision">
          <section className="supervision__timeline" aria-label={t('title')}>
            <header className="conversation__head">
              <div>
                <h2>
                  <bdi dir="auto">{nameOf(detail.customerName)}</bdi>
                </h2>
                <p className="muted">
                  <code data-testid="supervised-session">{detail.id}</code> · {detail.channel} · {detail.skillGroup} ·{' '}
                  {t(`statuses.${detail.status}`)}
                  {holder ? ` · ${holder.name}` : ''}
                </p>
              </div>
            </header>
            <p className="supervision__banner" role="status">
              <span>{t('readOnly')}</span>
              <span className="supervision__live">● {t('live')}</span>
            </p>
            <ol className="supervision__messages" ref={listRef} data-testid="supervised-messages">
              {detail.messages.map((m) =>
                isNote(m) ? (
                  <NoteLine key={m.id} message={m} />
                ) : m.kind === 'event' && m.body.name === TRANSFER_EVENT_NAME ? (
                  <TransferRecordLine key={m.id} message={m} />
                ) : (
                  <li
                    key={m.id}
                    className={`bubble bubble--${m.direction}${m.author === 'ai' || m.author === 'system' ? ` bubble--${m.author}` : ''}`}
                    data-testid={m.direction === 'in' ? 'customer-message' : 'agent-message'}
                  >
                    <span className="bubble__text" dir="auto">
                      {textOf(m)}
                    </span>
                    <span className="bubble__meta">
                      <AuthorMark author={m.author} />
                      {m.direction === 'out' && m.authorId ? <bdi dir="auto">{staffName(staff, m.authorId)} · </bdi> : null}
                      <time dateTime={m.receivedAt}>{fmt.stamp(m.receivedAt)}</time> · #{m.seq}
                    </span>
                  </li>
                ),
              )}
            </ol>
            {detail.status !== 'closed' ? (
              <form className={barging ? 'supervision__box supervision__box--barge' : 'supervision__box'} onSubmit={(e) => void submit(e)}>
                <label>
                  <input type="checkbox" checked={barging} onChange={(e) => setBarging(e.target.checked)} data-testid="barge-toggle" />{' '}
                  {t('barge')}
                </label>
                {barging ? <strong role="status">{t('bargeHint')}</strong> : null}
                {noAgent ? (
                  <span className="muted" role="note" data-testid="whisper-no-agent">
                    {t('whisperNoAgent')}
                  </span>
                ) : null}
                <textarea
                  disabled={noAgent}
                  aria-label={barging ? t('bargePlaceholder') : t('whisper')}
                  placeholder={barging ? t('bargePlaceholder') : t('whisperPlaceholder')}
                  dir="auto"
                  rows={2}
                  maxLength={MAX_TEXT_LENGTH}
                  value={text}
                  onChange={(e) => setText(e.target.value)}
                  onKeyDown={onKey}
                  data-testid="supervision-input"
                />
                <button type="submit" disabled={noAgent || !hasVisibleText(text)} data-testid="supervision-send">
                  {barging ? t('sendToCustomer') : t('send')}
                </button>
              </form>
            ) : null}
          </section>
          <aside className="supervision__side">
            {takesOver && detail.status === 'active' && detail.assignedAgentId && detail.assignedAgentId !== meId ? (
              <section className="supervision__takeover" data-testid="supervision-takeover">
                <h3>{tc('supervisionTakeover')}</h3>
                <p className="muted">{tc('supervisionHint', { name: holder?.name ?? detail.assignedAgentId })}</p>
                <AskTakeover sessionId={detail.id} />
              </section>
            ) : null}
            {detail.status === 'active' ? (
              <section>
                <h3>{t('reassign')}</h3>
                <label>
                  {t('reassignTo')}{' '}
                  <select value={target} onChange={(e) => setTarget(e.target.value)} data-testid="reassign-target">
                    <option value="queue">{t('toQueue')}</option>
                    {groupAgents.map((a) => (
                      <option key={a.id} value={a.id}>
                        {a.name} ({t(`presences.${a.presence}`)})
                      </option>
                    ))}
                  </select>
                </label>{' '}
                <button
                  type="button"
                  data-testid="reassign-button"
                  onClick={() =>
                    void reassign(target === 'queue' ? { kind: 'queue' } : { kind: 'agent', agentId: target }).then((r) =>
                      setDone(r !== null),
                    )
                  }
                >
                  {t('reassign')}
                </button>
                {done ? <p role="status">{t('reassignDone')}</p> : null}
              </section>
            ) : null}
            <section data-testid="supervised-agents">
              <h3>{t('agents')}</h3>
              {agents.length === 0 ? <p className="muted">{t('noAgents')}</p> : null}
              {agents.map((a) => (
                <div key={a.id} className="supervision__agent">
                  <span>
                    <bdi dir="auto">{a.name}</bdi> <span className="muted">· {t('load', { count: a.activeChats })}</span>
                  </span>
                  <select
                    aria-label={t('setPresence', { name: a.name })}
                    value={a.presence}
                    onChange={(e) => void setAgentPresence(a.id, e.target.value as 'available' | 'busy' | 'away')}
                    data-testid={`agent-presence-${a.name}`}
                  >
                    <option value="available">{t('presences.available')}</option>
                    <option value="busy">{t('presences.busy')}</option>
                    <option value="away">{t('presences.away')}</option>
                    {a.presence === 'after-call-work' || a.presence === 'offline' ? (
                      <option value={a.presence} disabled>
                        {t(`presences.${a.presence}`)}
                      </option>
                    ) : null}
                  </select>
                </div>
              ))}
            </section>
          </aside>
        </div>
      ) : !error ? (
        <p className="muted">{t('loading')}</p>
      ) : null}
    </div>
  );
}
