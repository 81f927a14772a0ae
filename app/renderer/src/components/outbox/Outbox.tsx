import { useEffect, useRef } from 'react';
import { useTranslation } from 'react-i18next';
import type { SessionDetail } from '../../../../../common/api/sessions';
import { textOf } from '../../../../../common/message/envelope';
import { useWorkstation } from '../../context';
import { useFormat } from '../../format';
import { ServerError } from '../ServerError';

/**
 * The agent's replies not yet acked in the open session (issue 15): `sending…`, `queued` (in the
 * outbox while the link is down; sent in order when it is back) or refused for good (why, and Retry).
 */
export function PendingReplies({ sessionId }: { sessionId: string }) {
  const { t } = useTranslation('outbox');
  const pending = useWorkstation((s) => s.pending);
  const retry = useWorkstation((s) => s.retry);
  return (
    <>
      {pending
        .filter((p) => !p.sessionId || p.sessionId === sessionId)
        .map((p) => (
          <li
            key={p.clientMessageId}
            className={`bubble bubble--out bubble--pending${p.error ? ' bubble--failed' : ''}${p.status === 'queued' ? ' bubble--queued' : ''}`}
            data-testid="pending-reply"
            data-state={p.error ? 'refused' : (p.status ?? 'sending')}
          >
            <span className="bubble__text" dir="auto">
              {p.text}
            </span>
            <span className="bubble__meta">
              {p.error ? (
                <>
                  {t('refused')}
                  <ServerError stored={p.error} />{' '}
                  <button type="button" className="linklike" onClick={() => void retry(p.clientMessageId)}>
                    {t('retry')}
                  </button>
                </>
              ) : p.status === 'queued' ? (
                t('queued')
              ) : (
                t('sending')
              )}
            </span>
          </li>
        ))}
    </>
  );
}

/** Above the conversation: the link is down (how many replies wait), and refused wrap-ups / accepts. */
export function OutboxBanner() {
  const { t } = useTranslation('outbox');
  const link = useWorkstation((s) => s.link);
  const waiting = useWorkstation((s) => s.pending.filter((p) => p.status === 'queued' && !p.error).length);
  const refusals = useWorkstation((s) => s.outboxRefusals);
  const dismiss = useWorkstation((s) => s.dismissOutboxRefusal);
  return (
    <>
      {link === 'connecting' ? (
        <p className="outbox-banner" role="status" data-testid="outbox-offline">
          {waiting > 0 ? t('offlineCount', { count: waiting }) : t('offline')}
        </p>
      ) : null}
      {refusals.map((r, i) => (
        <p
          key={`${r.kind}-${r.sessionId}-${i}`}
          className="error outbox-banner outbox-banner--refused"
          role="alert"
          data-testid="outbox-refused"
          data-kind={r.kind}
          data-code={r.code}
        >
          {t(r.kind === 'accept' ? 'refusedAccept' : 'refusedWrapUp', { session: r.sessionId })}
          <ServerError code={r.code} />{' '}
          <button type="button" className="linklike" onClick={() => dismiss(i)}>
            {t('dismiss')}
          </button>
        </p>
      ))}
    </>
  );
}

/** The session being opened: its locally kept last interactions, shown at once until the server answers. */
export function LocalHistoryPreview() {
  const { t } = useTranslation('outbox');
  const fmt = useFormat();
  const preview = useWorkstation((s) => (s.localPreview && s.localPreview.sessionId === s.openSessionId ? s.localPreview : null));
  if (!preview) return null;
  return (
    <section className="conversation conversation--local" data-testid="local-history">
      <p className="closed-note">{t('localHistory')}</p>
      <ol className="messages">
        {preview.messages.map((m) => (
          <li key={m.id} className={`bubble bubble--${m.direction}`}>
            <span className="bubble__text" dir="auto">
              {textOf(m)}
            </span>
            <span className="bubble__meta">{fmt.stamp(m.receivedAt)}</span>
          </li>
        ))}
      </ol>
    </section>
  );
}

/** How long the composer waits after the last keystroke before saving the draft (ms). */
export const DRAFT_SAVE_DELAY_MS = 400;

/**
 * Per-conversation drafts (issue 15): the composer's text is saved `DRAFT_SAVE_DELAY_MS` after the
 * agent stops typing, and put back when the conversation is opened again — after a page reload or an
 * app restart too. An AI draft being reviewed (`aiDraftActive`) is not overwritten by a saved one.
 * Switching conversations saves the one being left at once. Sending clears the composer, which
 * removes the draft (empty text). The draft keeps whether it was typed as an internal note (`note`),
 * and restoring it puts the composer back in that mode: a note never comes back as a reply.
 */
export function useLocalDraft(
  detail: Pick<SessionDetail, 'conversationId' | 'customerId'> | null,
  text: string,
  setText: (text: string) => void,
  aiDraftActive: boolean,
  note = false,
  setNote: (note: boolean) => void = () => undefined,
): void {
  const local = useWorkstation((s) => s.local);
  const conversationId = detail?.conversationId ?? null;
  const customerId = detail?.customerId ?? null;
  /** The conversation whose saved draft is loaded into the composer (saving waits until then). */
  const loadedFor = useRef<string | null>(null);
  const latest = useRef({ text, conversationId, customerId });
  latest.current = { text, conversationId, customerId };
  const restoreMode = useRef(setNote);
  restoreMode.current = setNote;
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const aiActive = useRef(aiDraftActive);
  aiActive.current = aiDraftActive;

  useEffect(() => {
    loadedFor.current = null;
    if (!conversationId) return;
    let live = true;
    void local.loadDraft(conversationId).then((saved) => {
      if (!live) return;
      loadedFor.current = conversationId;
      // Each conversation has its own composer text: the one left behind is not carried over.
      if (!aiActive.current) {
        setText(saved?.text ?? '');
        if (saved) restoreMode.current(saved.note);
      }
    });
    return () => {
      live = false;
    };
    // setText is the composer's state setter (stable): not a reason to load again.
  }, [conversationId, local]);

  useEffect(() => {
    if (!conversationId || !customerId || loadedFor.current !== conversationId) return;
    clearTimeout(timer.current);
    const save = () => void local.saveDraft(conversationId, customerId, text, note);
    const pending = setTimeout(() => {
      timer.current = undefined;
      save();
    }, DRAFT_SAVE_DELAY_MS);
    timer.current = pending;
    return () => {
      clearTimeout(pending);
      // Leaving the conversation (or the page unmounting): what was typed is saved now, not dropped.
      if (timer.current === pending && latest.current.conversationId !== conversationId) save();
      timer.current = undefined;
    };
  }, [text, note, conversationId, customerId, local]);
}
