import { useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { SessionDetail } from '../../../../../common/api/sessions';
import { HuiliuError } from '../../../../../common/errors/codes';
import { useWorkstation } from '../../context';
import { useCollision, useCollisionStore } from './collision-hooks';
import { withTakeover } from './collision-store';

/**
 * The composer of a conversation a colleague holds (issue 15): read only, with "Ask to take over"
 * and where the request stands. Nothing when nobody else holds it (waiting, with the AI, closed, mine).
 */
export function ReadOnlyComposer({ detail }: { detail: SessionDetail }) {
  const { t } = useTranslation('collision');
  const meId = useWorkstation((s) => s.user?.id ?? null);
  const pushed = useCollision((s) => s.viewers[detail.id]);
  const mine = useCollision((s) => s.mine[detail.id]);
  const listed = useCollision((s) => s.held?.find((h) => h.summary.id === detail.id)?.holder ?? null);
  // The pushed list is newer than the detail read when the conversation was opened.
  const holderId = pushed ? pushed.assignedAgentId : detail.status === 'active' ? detail.assignedAgentId : null;
  if (!holderId || holderId === meId || detail.status === 'closed') return null;
  const holderName =
    pushed?.viewers.find((v) => v.id === holderId)?.name ?? mine?.holder.name ?? (listed?.id === holderId ? listed.name : null);

  return (
    <div className="composer-area composer-area--readonly" data-testid="readonly-composer">
      <p className="readonly-note" role="status">
        {holderName ? t('readOnly', { name: holderName }) : t('readOnlyColleague')}
      </p>
      <div className="composer composer--readonly">
        <textarea aria-label={t('readOnlyPlaceholder')} placeholder={t('readOnlyPlaceholder')} rows={2} readOnly disabled value="" />
        <AskTakeover sessionId={detail.id} />
      </div>
    </div>
  );
}

/**
 * "Ask to take over" for a conversation a colleague holds (issue 15), or where my request stands
 * ("Asking Agent One…"), with the refusal's words. Used by the read-only composer and a lead's
 * supervision view; the server checks everything (`takeover:request`: viewing, group, holder).
 */
export function AskTakeover({ sessionId }: { sessionId: string }) {
  const { t } = useTranslation('collision');
  const meId = useWorkstation((s) => s.user?.id ?? null);
  const connection = useWorkstation((s) => s.connection);
  const store = useCollisionStore();
  const mine = useCollision((s) => s.mine[sessionId]);
  // The hand-over is a warm transfer to the asker, which needs them available: say so before asking
  // rather than let the holder's "Hand over" fail with TRANSFER_TARGET_UNAVAILABLE.
  const available = useWorkstation((s) => s.presence === 'available');
  const [error, setError] = useState<string | null>(null);
  // One request at a time: a double click would otherwise ask twice and show the second one's
  // TAKEOVER_PENDING ("already asked for") under the asker's own pending request.
  const inFlight = useRef(false);
  const [sending, setSending] = useState(false);

  const ask = async () => {
    if (!connection || inFlight.current) return;
    inFlight.current = true;
    setSending(true);
    setError(null);
    try {
      const view = await connection.request('takeover:request', { sessionId }, { retries: 0 });
      store.setState((s) => withTakeover(s, view, meId));
    } catch (e) {
      const code = e instanceof HuiliuError ? e.code : 'INTERNAL';
      setError(
        code === 'NOT_VIEWING' || code === 'TAKEOVER_PENDING' || code === 'TAKEOVER_OWN' || code === 'FORBIDDEN'
          ? t(`errors.${code}`)
          : t('errors.other', { code }),
      );
    } finally {
      inFlight.current = false;
      setSending(false);
    }
  };

  return (
    <span className="takeover-ask">
      {mine ? (
        <span className="takeover-asking" role="status" data-testid="takeover-asking">
          {t('asking', { name: mine.holder.name })}
        </span>
      ) : (
        <>
          <button
            type="button"
            onClick={() => void ask()}
            disabled={sending || !available}
            aria-describedby={available ? undefined : `takeover-needs-available-${sessionId}`}
            data-testid="ask-takeover"
          >
            {t('ask')}
          </button>
          {available ? null : (
            <span className="muted takeover-hint" id={`takeover-needs-available-${sessionId}`} data-testid="takeover-needs-available">
              {t('needsAvailable')}
            </span>
          )}
        </>
      )}
      {error ? (
        <p className="error takeover-error" role="alert" data-testid="takeover-error">
          {error}
        </p>
      ) : null}
    </span>
  );
}
