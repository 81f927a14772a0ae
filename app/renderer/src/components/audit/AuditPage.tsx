import { createContext, useContext, useMemo, type FormEvent } from 'react';
import { useStore } from 'zustand';
import type { AuditEntryView } from '../../../../../common/api/audit';
import { createAuditApi, type AuditApi } from '../../api/audit';
import { StoreContext, useLocale } from '../../context';
import { createAuditStore, type AuditStore, type AuditView } from '../../stores/audit';
import './audit.css';
import type { TFunction } from 'i18next';
import { useTranslation } from 'react-i18next';
import { hasKey } from '../../locale-format';
import { intlTag } from '../../locale';
import { en } from '../../locales/audit';

/** The audit namespace's translate function (react-i18next). */
type Tr = TFunction<'audit'>;

/** The audit REST client; tests may give one with a fake fetch. */
export const AuditApiContext = createContext<AuditApi>(createAuditApi());

function actorText(e: AuditEntryView, t: Tr): string {
  if (e.actor.kind === 'ai') return t('actors.ai');
  if (e.actor.kind === 'system') return t('actors.system', { id: e.actor.id });
  return e.actor.name ?? e.actor.id;
}

const detailText = (d: AuditEntryView['detail']) =>
  Object.entries(d)
    .map(([k, v]) => `${k}=${v === null ? '—' : String(v)}`)
    .join(' · ');

function Row({ e, t, tag }: { e: AuditEntryView; t: Tr; tag: string }) {
  const at = new Date(e.at);
  return (
    <tr data-testid="audit-row" data-seq={e.seq} data-action={e.action} data-actor={e.actor.name ?? e.actor.id}>
      <td className="audit__time">
        <time dateTime={e.at} title={e.at}>
          {at.toLocaleString(tag, { dateStyle: 'medium', timeStyle: 'medium' })}
        </time>
      </td>
      <td>
        <bdi dir="auto">{actorText(e, t)}</bdi>
        {e.actor.kind === 'staff' && e.actor.name ? <small className="muted audit__id">{e.actor.id}</small> : null}
      </td>
      <td>
        <code>{e.action}</code>
      </td>
      <td>
        {e.target ? (
          <>
            {hasKey(en.targets, e.target.kind) ? t(`targets.${e.target.kind}`) : e.target.kind}{' '}
            <span className="audit__target">{e.target.id}</span>
          </>
        ) : (
          <span className="muted">—</span>
        )}
      </td>
      <td>
        <span className={`audit__outcome audit__outcome--${e.outcome}`}>{t(`outcomes.${e.outcome}`)}</span>
      </td>
      <td className="audit__detail">
        {detailText(e.detail)}
        {e.ip ? <small className="muted">{Object.keys(e.detail).length ? ` · ${e.ip}` : e.ip}</small> : null}
      </td>
    </tr>
  );
}

function useAudit<T>(store: AuditStore, selector: (s: AuditView) => T): T {
  return useStore(store, selector);
}

/**
 * The auditor's view (issue 17, docs/audit.md): search the audit log by user (id or username) and a
 * time range picked in local time (sent as ISO 8601), entries newest first in pages (the next through
 * the server's cursor). Only auditors reach it (policy `audit.view`); the server refuses everyone else.
 */
export function AuditPage() {
  const api = useContext(AuditApiContext);
  const locale = useLocale();
  const { t } = useTranslation('audit');
  const tag = intlTag(locale);
  const workstation = useContext(StoreContext);
  // The token is read at call time, so a renewed sign-in keeps working.
  const store = useMemo(() => createAuditStore(api, () => workstation?.getState().token ?? ''), [api, workstation]);
  return <AuditSearch store={store} t={t} tag={tag} />;
}

function AuditSearch({ store, t, tag }: { store: AuditStore; t: Tr; tag: string }) {
  const form = useAudit(store, (s) => s.form);
  const entries = useAudit(store, (s) => s.entries);
  const next = useAudit(store, (s) => s.next);
  const status = useAudit(store, (s) => s.status);
  const error = useAudit(store, (s) => s.error);
  const searched = useAudit(store, (s) => s.query !== null);
  const { setForm, search, more } = store.getState();
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void search();
  };
  return (
    <main className="audit" data-testid="audit-page">
      <div className="audit__head">
        <h2>{t('title')}</h2>
        <p className="muted audit__intro">{t('intro')}</p>
      </div>
      <form className="audit__form" onSubmit={submit} data-testid="audit-form">
        <label>
          <span>{t('user')}</span>
          <input
            value={form.userId}
            onChange={(e) => setForm({ userId: e.target.value })}
            placeholder={t('userHint')}
            maxLength={64}
            data-testid="audit-user"
          />
        </label>
        <label>
          <span>{t('from')}</span>
          <input type="datetime-local" value={form.from} onChange={(e) => setForm({ from: e.target.value })} data-testid="audit-from" />
        </label>
        <label>
          <span>{t('to')}</span>
          <input type="datetime-local" value={form.to} onChange={(e) => setForm({ to: e.target.value })} data-testid="audit-to" />
        </label>
        <button type="submit" disabled={status === 'searching'} data-testid="audit-search">
          {status === 'searching' ? t('searching') : t('search')}
        </button>
      </form>
      {error ? (
        <p className="audit__error" role="alert" data-testid="audit-error">
          {hasKey(en.errors, error) ? t(`errors.${error}`) : t('errors.fallback')}
        </p>
      ) : null}
      {searched ? (
        <>
          <p className="muted" data-testid="audit-count">
            {entries.length === 0 ? t('none') : t('shown', { count: entries.length })}
          </p>
          {entries.length > 0 ? (
            <div className="audit__scroll">
              <table className="audit__table" data-testid="audit-table">
                <thead>
                  <tr>
                    <th>{t('columns.time')}</th>
                    <th>{t('columns.actor')}</th>
                    <th>{t('columns.action')}</th>
                    <th>{t('columns.target')}</th>
                    <th>{t('columns.outcome')}</th>
                    <th>{t('columns.detail')}</th>
                  </tr>
                </thead>
                <tbody>
                  {entries.map((e) => (
                    <Row key={e.seq} e={e} t={t} tag={tag} />
                  ))}
                </tbody>
              </table>
            </div>
          ) : null}
          {next ? (
            <button type="button" onClick={() => void more()} disabled={status === 'searching'} data-testid="audit-more">
              {t('more')}
            </button>
          ) : entries.length > 0 ? (
            <p className="muted" data-testid="audit-end">
              {t('end')}
            </p>
          ) : null}
        </>
      ) : null}
    </main>
  );
}
