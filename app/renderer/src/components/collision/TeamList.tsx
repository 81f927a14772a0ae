import { useCallback, useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { HuiliuError } from '../../../../../common/errors/codes';
import { useLocale, useWorkstation } from '../../context';
import { useCustomerName } from '../../customer-name';
import { waitedFor } from '../../format';
import { offSocket, useCollision, useCollisionStore } from './collision-hooks';

/**
 * Reads the contacts colleagues hold in my groups (`takeover:list`) into the collision store when
 * `active` (the tab is shown) turns on, and again after each reconnect's `hello` while it is shown
 * (pushes missed while the link was down are not replayed). Between reads the server pushes each
 * change (`takeover:held`, applied by CollisionLayer). A failure keeps the last list and records its
 * code (`heldError`). Returns a function that reads it again at once.
 */
export function useHeldContacts(active: boolean): () => void {
  const connection = useWorkstation((s) => s.connection);
  const store = useCollisionStore();
  const read = useCallback(() => {
    if (!connection) return;
    void connection
      .request('takeover:list', {}, { retries: 0 })
      .then((held) => store.setState({ held, heldError: null }))
      .catch((e: unknown) => store.setState({ heldError: e instanceof HuiliuError ? e.code : 'INTERNAL' }));
  }, [connection, store]);
  useEffect(() => {
    if (!connection) return;
    if (!active) return;
    read();
    connection.socket.on('hello', read);
    return () => offSocket(connection.socket, 'hello', read);
  }, [active, read, connection]);
  useEffect(() => {
    if (!connection || active) return;
    // Hidden: pushes are still applied, but a reconnect may have missed some; read afresh on the next open.
    const stale = () => store.setState({ held: null });
    connection.socket.on('hello', stale);
    return () => offSocket(connection.socket, 'hello', stale);
  }, [active, connection, store]);
  return read;
}

/**
 * The "Team" tab of the queue column (issue 15, docs/collision.md): the conversations colleagues are
 * handling in my skill groups, each with its holder. Opening one shows it read-only (live viewers,
 * "Ask to take over"); the server decides the scope (`takeover:list`).
 */
export function TeamList({ onRefresh }: { onRefresh: () => void }) {
  const { t } = useTranslation('collision', { keyPrefix: 'team' });
  const { t: tc } = useTranslation('continuity');
  const locale = useLocale();
  const nameOf = useCustomerName();
  const held = useCollision((s) => s.held);
  const error = useCollision((s) => s.heldError);
  const openId = useWorkstation((s) => s.openSessionId);
  const openSession = useWorkstation((s) => s.openSession);
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, []);

  return (
    <section className="team" aria-label={t('label')} data-testid="team-list">
      <p className="team__head">
        <span className="muted">{t('hint')}</span>
        <button type="button" className="ghost team__refresh" onClick={onRefresh} data-testid="team-refresh">
          {t('refresh')}
        </button>
      </p>
      {error ? (
        <p className="error" role="alert">
          {t('error', { code: error })}
        </p>
      ) : null}
      {held && held.length === 0 ? <p className="queue__empty">{t('empty')}</p> : null}
      {held && held.length > 0 ? (
        <ul className="queue__list">
          {held.map(({ summary: s, holder }) => (
            <li
              key={s.id}
              className={`qitem${openId === s.id ? ' qitem--open' : ''}`}
              data-testid="team-item"
              data-session-id={s.id}
              data-holder-id={holder.id}
            >
              <button type="button" className="qitem__main" onClick={() => void openSession(s.id)}>
                <span className="qitem__top">
                  <span className={`chan chan--${s.channel}`} data-channel={s.channel}>
                    {tc(`channels.${s.channel}`)}
                  </span>
                  <strong className="qitem__name" dir="auto">
                    {nameOf(s.customerName)}
                  </strong>
                  <span className="qitem__wait">{waitedFor(s.lastMessageAt, now, locale)}</span>
                </span>
                <span className="qitem__preview" dir="auto">
                  {s.lastMessagePreview}
                </span>
                <span className="qitem__tags">
                  <span className="team__holder" data-testid="team-holder">
                    {t('heldBy', { name: holder.name })}
                  </span>
                  <span className="group">{s.skillGroup}</span>
                </span>
              </button>
            </li>
          ))}
        </ul>
      ) : null}
    </section>
  );
}
