import { useEffect, useLayoutEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { TakeoverView } from '../../../../../common/api/collision';
import { useWorkstation } from '../../context';
import { useCollision, useCollisionStore } from './collision-hooks';
import { withTakeover } from './collision-store';

/** How long the notice of a finished take-over stays (ms) unless dismissed first. */
export const OUTCOME_SHOWN_MS = 15_000;

/**
 * The holder's take-over prompt (accept: hand over / decline: keep it, counting down to `expiresAt`)
 * and the notice of how a take-over ended, for both parties (issue 15).
 */
export function TakeoverPrompt() {
  const { t } = useTranslation('collision');
  const asked = useCollision((s) => s.asked);
  const outcome = useCollision((s) => s.outcome);
  const store = useCollisionStore();
  const meId = useWorkstation((s) => s.user?.id ?? null);
  const connection = useWorkstation((s) => s.connection);
  const [now, setNow] = useState(() => Date.now());
  // `now` stands still while no prompt is shown: take the time again before a new prompt is painted,
  // or its first frame counts from the last prompt (or from sign-in): "answer within 630 s".
  useLayoutEffect(() => {
    if (asked.length === 0) return;
    setNow(Date.now());
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [asked.length]);
  useEffect(() => {
    if (!outcome) return;
    const timer = setTimeout(() => store.setState((s) => (s.outcome === outcome ? { ...s, outcome: null } : s)), OUTCOME_SHOWN_MS);
    return () => clearTimeout(timer);
  }, [outcome, store]);

  const answer = async (request: TakeoverView, accept: boolean) => {
    if (!connection) return;
    try {
      const view = await connection.request('takeover:answer', { takeoverId: request.id, accept }, { retries: 0 });
      store.setState((s) => withTakeover(s, view, meId));
    } catch {
      // Answered elsewhere or expired: the pushed update says how it ended.
      store.setState((s) => ({ ...s, asked: s.asked.filter((a) => a.id !== request.id) }));
    }
  };

  const request = asked[0];
  return (
    <>
      {request ? (
        <div className="takeover-prompt" role="alertdialog" aria-labelledby="takeover-title" data-testid="takeover-prompt">
          <h3 id="takeover-title">{t('promptTitle')}</h3>
          <p>{t('prompt', { name: request.requester.name })}</p>
          <p className="muted">{t('promptExpires', { seconds: Math.max(0, Math.round((Date.parse(request.expiresAt) - now) / 1000)) })}</p>
          <div className="takeover-prompt__actions">
            <button type="button" onClick={() => void answer(request, true)} data-testid="takeover-accept">
              {t('accept')}
            </button>
            <button type="button" className="ghost" onClick={() => void answer(request, false)} data-testid="takeover-decline">
              {t('decline')}
            </button>
          </div>
        </div>
      ) : null}
      {outcome ? (
        <div className={`takeover-outcome takeover-outcome--${outcome.status}`} role="status" data-testid="takeover-outcome">
          <span>{outcomeText(t, outcome, meId)}</span>
          <button type="button" className="ghost" onClick={() => store.setState({ outcome: null })}>
            {t('dismiss')}
          </button>
        </div>
      ) : null}
    </>
  );
}

type T = ReturnType<typeof useTranslation<'collision'>>['t'];

/** What a finished take-over means to me: as the one who asked, or the one who was asked. */
export function outcomeText(t: T, o: TakeoverView, meId: string | null): string {
  const asker = o.requester.id === meId;
  const other = asker ? o.holder.name : o.requester.name;
  switch (o.status) {
    case 'accepted':
      return asker ? t('outcome.accepted', { name: other }) : t('outcome.acceptedHolder', { name: other });
    case 'declined':
      return t('outcome.declined', { name: asker ? other : o.holder.name });
    case 'expired':
      return t('outcome.expired', { name: o.holder.name });
    case 'failed':
      return t('outcome.failed', { code: o.error ?? 'INTERNAL' });
    default:
      return t('outcome.cancelled');
  }
}
