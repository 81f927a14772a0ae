import { useContext, useEffect, useId, useMemo } from 'react';
import { useStore } from 'zustand';
import { usePrivacyApi } from '../api/privacy';
import { useTranslation } from 'react-i18next';
import { StoreContext, useWorkstation } from '../context';
import { useFormat } from '../format';
import { canRequestPrivacy } from '../staff';
import { PrivacyErrorText } from './privacy/PrivacyPage';
import { createPrivacyFilingStore, REASON_MAX } from '../stores/privacy';

/**
 * The customer panel's data-subject request buttons (issue 17, docs/privacy.md): "Request data export"
 * and "Request erasure" ask for a reason and file it (`POST /api/v1/privacy/exports|erasures`); the
 * confirmation shows the request id and due date. Shown to roles with policy `privacy.request`
 * (agents, leads, admins, privacy officers); a privacy officer then approves it in the Privacy tab.
 */
export function PrivacyRequestActions({ customerId }: { customerId: string }) {
  const user = useWorkstation((s) => s.user);
  const api = usePrivacyApi();
  const workstation = useContext(StoreContext);
  const { t } = useTranslation('privacyRequest');
  const { dateTime } = useFormat();
  const headingId = useId();
  const store = useMemo(() => createPrivacyFilingStore(api, () => workstation?.getState().token ?? ''), [api, workstation]);
  const kind = useStore(store, (s) => s.kind);
  const reason = useStore(store, (s) => s.reason);
  const status = useStore(store, (s) => s.status);
  const error = useStore(store, (s) => s.error);
  const filed = useStore(store, (s) => s.filed);
  // Another customer: start over.
  useEffect(() => store.getState().cancel(), [store, customerId]);
  if (!canRequestPrivacy(user)) return null;
  const { open, cancel, setReason, submit } = store.getState();
  return (
    <section className="privacy-file" aria-labelledby={headingId} data-testid="privacy-file">
      <h3 id={headingId}>{t('panelTitle')}</h3>
      {kind === null ? (
        <div className="privacy-file__buttons">
          <button type="button" className="ghost" onClick={() => open('export')} data-testid="privacy-request-export">
            {t('requestExport')}
          </button>
          <button type="button" className="ghost" onClick={() => open('erasure')} data-testid="privacy-request-erasure">
            {t('requestErasure')}
          </button>
        </div>
      ) : (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            void submit(customerId);
          }}
          className="privacy-file"
          aria-label={kind === 'export' ? t('requestExport') : t('requestErasure')}
          data-testid="privacy-file-form"
        >
          <strong>{kind === 'export' ? t('requestExport') : t('requestErasure')}</strong>
          {kind === 'erasure' ? <p className="privacy-file__warning">{t('erasureWarning')}</p> : null}
          <label>
            <span>{t('reasonLabel')}</span>
            <textarea
              value={reason}
              onChange={(e) => setReason(e.target.value)}
              placeholder={t('reasonHint')}
              maxLength={REASON_MAX}
              rows={3}
              dir="auto"
              autoFocus
              aria-required="true"
              aria-invalid={error?.code === 'reason'}
              data-testid="privacy-reason"
            />
          </label>
          <div className="privacy-file__buttons">
            <button type="submit" disabled={status === 'sending'} data-testid="privacy-file-submit">
              {status === 'sending' ? t('sending') : t('submit')}
            </button>
            <button type="button" className="ghost" onClick={cancel}>
              {t('cancel')}
            </button>
          </div>
        </form>
      )}
      {error ? (
        <p className="privacy-file__error" role="alert" data-testid="privacy-file-error">
          <PrivacyErrorText error={error} />
        </p>
      ) : null}
      {filed ? (
        <p className="privacy-file__done" role="status" data-testid="privacy-filed" data-id={filed.id}>
          {t('filed', { kind: t(`kinds.${filed.kind}`), id: filed.id, due: dateTime(filed.dueAt) })} {t('filedNext')}
        </p>
      ) : null}
    </section>
  );
}
