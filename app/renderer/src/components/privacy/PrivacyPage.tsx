import { useContext, useEffect, useMemo, useState, type FormEvent } from 'react';
import { useStore } from 'zustand';
import type { PrivacyRequestView } from '../../../../../common/api/privacy';
import type { DownloadedExport } from '../../api/privacy';
import { usePrivacyApi } from '../../api/privacy';
import { useTranslation } from 'react-i18next';
import { StoreContext, useWorkstation } from '../../context';
import { useFormat } from '../../format';
import { ServerError } from '../ServerError';
import { createPrivacyQueueStore, type PrivacyError, type PrivacyQueueStore } from '../../stores/privacy';
import './privacy.css';

/** Hands the bundle to the browser as a file (an object URL on a temporary link). */
function saveAsFile(file: DownloadedExport): void {
  const url = URL.createObjectURL(new Blob([file.json], { type: 'application/json' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = file.filename;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/**
 * A refusal in the viewer's language: the form's own check (`reason`), no answer (`network`), or the
 * server's code worded by the `errors` namespace (this feature's wording first), with the code small.
 */
export function PrivacyErrorText({ error }: { error: PrivacyError }) {
  const { t } = useTranslation('privacyRequest');
  if (error.code === 'reason') return <span data-testid="error-text">{t('errors.reason')}</span>;
  if (error.code === 'network') return <ServerError stored="errors:network" />;
  return <ServerError code={error.code} message={error.message} override="privacyRequest:errors." />;
}

/**
 * The privacy officer's view (issue 17, docs/privacy.md): every export and erasure request, newest
 * first, with its due date (overdue ones marked), status and decider; Approve and Reject (with a
 * note) on pending requests filed by someone else; Download, once, on approved exports. Only privacy
 * officers reach it (policy `privacy.approve`); the server refuses everyone else.
 */
export function PrivacyPage() {
  const api = usePrivacyApi();
  const workstation = useContext(StoreContext);
  // The token is read at call time, so a renewed sign-in keeps working.
  const store = useMemo(() => createPrivacyQueueStore(api, () => workstation?.getState().token ?? '', saveAsFile), [api, workstation]);
  useEffect(() => {
    void store.getState().load();
  }, [store]);
  return <PrivacyQueue store={store} />;
}

function PrivacyQueue({ store }: { store: PrivacyQueueStore }) {
  const { t } = useTranslation('privacyRequest', { keyPrefix: 'page' });
  const { dateTime: when } = useFormat();
  const self = useWorkstation((s) => s.user);
  const requests = useStore(store, (s) => s.requests);
  const status = useStore(store, (s) => s.status);
  const error = useStore(store, (s) => s.error);
  return (
    <main className="privacy" data-testid="privacy-page">
      <div className="privacy__head">
        <h2>{t('title')}</h2>
        <button
          type="button"
          className="ghost"
          onClick={() => void store.getState().load()}
          disabled={status === 'loading'}
          data-testid="privacy-refresh"
        >
          {status === 'loading' ? t('loading') : t('refresh')}
        </button>
      </div>
      <p className="muted privacy__intro">{t('intro')}</p>
      {error ? (
        <p className="privacy__error" role="alert" data-testid="privacy-error" data-code={error.code}>
          <PrivacyErrorText error={error} />
        </p>
      ) : null}
      {status === 'ready' && requests.length === 0 ? (
        <p className="muted" data-testid="privacy-none">
          {t('none')}
        </p>
      ) : null}
      {requests.length > 0 ? (
        <div className="privacy__scroll">
          <table className="privacy__table" data-testid="privacy-table">
            <thead>
              <tr>
                <th scope="col">{t('columns.kind')}</th>
                <th scope="col">{t('columns.customer')}</th>
                <th scope="col">{t('columns.reason')}</th>
                <th scope="col">{t('columns.requester')}</th>
                <th scope="col">{t('columns.requestedAt')}</th>
                <th scope="col">{t('columns.dueAt')}</th>
                <th scope="col">{t('columns.status')}</th>
                <th scope="col">{t('columns.actions')}</th>
              </tr>
            </thead>
            <tbody>
              {requests.map((r) => (
                <Row key={r.id} r={r} when={when} own={r.requestedBy === self?.id} selfId={self?.id} store={store} />
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </main>
  );
}

function Row({
  r,
  when,
  own,
  selfId,
  store,
}: {
  r: PrivacyRequestView;
  when: (iso: string) => string;
  own: boolean;
  selfId: string | undefined;
  store: PrivacyQueueStore;
}) {
  const busy = useStore(store, (s) => s.busy === r.id);
  const downloadedHere = useStore(store, (s) => s.downloaded.includes(r.id));
  const [rejecting, setRejecting] = useState(false);
  const [note, setNote] = useState('');
  const { t: tr } = useTranslation('privacyRequest');
  const { t } = useTranslation('privacyRequest', { keyPrefix: 'page' });
  const kind = tr(`kinds.${r.kind}`);
  const labelKind = t(`kinds.${r.kind}`);
  const submitReject = (e: FormEvent) => {
    e.preventDefault();
    void store
      .getState()
      .reject(r, note)
      .then(() => setRejecting(false));
  };
  return (
    <tr data-testid="privacy-row" data-id={r.id} data-kind={r.kind} data-status={r.status} data-customer={r.customerId}>
      <td className="privacy__nowrap">{kind}</td>
      <td>
        <code className="privacy__id">{r.customerId}</code>
      </td>
      <td className="privacy__reason">
        <bdi dir="auto">{r.reason}</bdi>
      </td>
      <td>
        {own ? (
          <strong>{t('you')}</strong>
        ) : (
          <bdi dir="auto" className="privacy__id">
            {r.requestedBy}
          </bdi>
        )}
      </td>
      <td className="privacy__nowrap">
        <time dateTime={r.requestedAt}>{when(r.requestedAt)}</time>
      </td>
      <td
        className={r.overdue ? 'privacy__nowrap privacy__due privacy__due--over' : 'privacy__nowrap privacy__due'}
        data-testid="privacy-due"
      >
        <time dateTime={r.dueAt}>{when(r.dueAt)}</time>
        {r.overdue ? <span className="privacy__overdue">{t('overdue')}</span> : null}
      </td>
      <td>
        <span className={`privacy__status privacy__status--${r.status}`} data-testid="privacy-status">
          {t(`statuses.${r.status}`)}
        </span>
        {r.decidedBy && r.decidedAt ? (
          <small className="muted privacy__decided">
            {t('decidedBy', { who: r.decidedBy === selfId ? t('you') : r.decidedBy, at: when(r.decidedAt) })}
          </small>
        ) : null}
      </td>
      <td>
        <div className="privacy__actions">
          {r.status === 'pending' && own ? <small className="muted">{t('ownRequest')}</small> : null}
          {r.status === 'pending' && !rejecting ? (
            <>
              <button
                type="button"
                onClick={() => void store.getState().approve(r)}
                disabled={busy}
                aria-label={t('approveLabel', { kind: labelKind, customer: r.customerId })}
                data-testid="privacy-approve"
              >
                {t('approve')}
              </button>
              <button
                type="button"
                className="ghost"
                onClick={() => setRejecting(true)}
                disabled={busy}
                aria-label={t('rejectLabel', { kind: labelKind, customer: r.customerId })}
                data-testid="privacy-reject"
              >
                {t('reject')}
              </button>
            </>
          ) : null}
          {r.status === 'pending' && rejecting ? (
            <form className="privacy__reject" onSubmit={submitReject} data-testid="privacy-reject-form">
              <label>
                <span>{t('rejectNote')}</span>
                <textarea
                  value={note}
                  onChange={(e) => setNote(e.target.value)}
                  maxLength={500}
                  rows={2}
                  dir="auto"
                  autoFocus
                  data-testid="privacy-reject-note"
                />
              </label>
              <div className="privacy__buttons">
                <button type="submit" disabled={busy} data-testid="privacy-reject-confirm">
                  {t('rejectConfirm')}
                </button>
                <button type="button" className="ghost" onClick={() => setRejecting(false)}>
                  {tr('cancel')}
                </button>
              </div>
            </form>
          ) : null}
          {r.kind === 'export' && r.status === 'approved' ? (
            <>
              <button
                type="button"
                onClick={() => void store.getState().download(r)}
                disabled={busy}
                aria-label={t('downloadLabel', { customer: r.customerId })}
                data-testid="privacy-download"
              >
                {t('download')}
              </button>
              <small className="muted">
                {t('downloadOnce')}
                {r.expiresAt ? ` ${t('expiresAt', { at: when(r.expiresAt) })}` : ''}
              </small>
            </>
          ) : null}
          {downloadedHere && r.status !== 'approved' ? (
            <small className="muted" data-testid="privacy-downloaded">
              {t('downloadedHere')}
            </small>
          ) : null}
        </div>
      </td>
    </tr>
  );
}
