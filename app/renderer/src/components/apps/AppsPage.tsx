import { createContext, useCallback, useContext, useEffect, useRef, useState, type FormEvent } from 'react';
import type { AppAccountView, AppKeyView, DeadLetterViewDto } from '../../../../../common/api/app-channel';
import { HuiliuError } from '../../../../../common/errors/codes';
import { createAppAdminApi, type AppAdminApi } from '../../api/app-admin';
import { useLocale, useWorkstation } from '../../context';
import './apps.css';
import type { TFunction } from 'i18next';
import { useTranslation } from 'react-i18next';
import { hasKey } from '../../locale-format';
import { intlTag } from '../../locale';
import { en } from '../../locales/apps';

/** The apps namespace's translate function (react-i18next). */
type Tr = TFunction<'apps'>;

/** The app admin REST client; tests may give one with a fake fetch. */
export const AppAdminApiContext = createContext<AppAdminApi>(createAppAdminApi());

/** A refusal as the admin reads it: the code's text, and the fields the server named. */
function errorText(error: unknown, t: Tr): string {
  if (!(error instanceof HuiliuError)) return t('errors.fallback');
  if ((error.details as { network?: boolean } | undefined)?.network) return t('errors.network');
  const base = hasKey(en.errors, error.code) ? t(`errors.${error.code}`) : error.message || t('errors.fallback');
  const fields = Array.isArray(error.details)
    ? (error.details as { path?: string; message?: string }[]).map((d) => `${d.path ?? ''}: ${d.message ?? ''}`).join('; ')
    : '';
  return fields ? `${base} ${fields}` : base;
}

/** A secret shown this once: the value, a copy button, and the warning that it will not be shown again. */
function SecretReveal({ title, value, t, onDone }: { title: string; value: string; t: Tr; onDone: () => void }) {
  const [copied, setCopied] = useState<'no' | 'yes' | 'failed'>('no');
  const box = useRef<HTMLDivElement>(null);
  // Issued from a card further down the page: brought into view, so it is not missed.
  // (A block body: newer Chromium returns a Promise from scrollIntoView, which React would take for a cleanup.)
  useEffect(() => {
    void box.current?.scrollIntoView({ block: 'nearest' });
  }, [value]);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(value);
      setCopied('yes');
    } catch {
      setCopied('failed');
    }
  };
  return (
    <div className="apps__secret" role="alert" data-testid="secret-reveal" ref={box}>
      <strong>{title}</strong>
      <p className="apps__secret-warning">{t('secret.once')}</p>
      <div className="apps__secret-row">
        <code data-testid="secret-value" className="apps__secret-value">
          {value}
        </code>
        <button type="button" onClick={() => void copy()} data-testid="secret-copy">
          {copied === 'yes' ? t('secret.copied') : t('secret.copy')}
        </button>
        <button type="button" className="ghost" onClick={onDone} data-testid="secret-done">
          {t('secret.done')}
        </button>
      </div>
      {copied === 'failed' ? <p className="apps__error">{t('secret.copyFailed')}</p> : null}
    </div>
  );
}

function CreateApp({
  t,
  groups,
  onCreated,
}: {
  t: Tr;
  groups: readonly string[];
  onCreated: (app: AppAccountView, secret?: string) => void;
}) {
  const api = useContext(AppAdminApiContext);
  const token = useWorkstation((s) => s.token)!;
  const [appId, setAppId] = useState('');
  const [name, setName] = useState('');
  const [skillGroup, setSkillGroup] = useState('');
  const [webhookUrl, setWebhookUrl] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const res = await api.create(token, {
        accountId: appId.trim(),
        name: name.trim(),
        ...(skillGroup ? { skillGroup } : {}),
        ...(webhookUrl.trim() ? { webhookUrl: webhookUrl.trim() } : {}),
      });
      setAppId('');
      setName('');
      setWebhookUrl('');
      setSkillGroup('');
      onCreated(res.app, res.webhookSecret);
    } catch (err) {
      setError(errorText(err, t));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form className="apps__card apps__create" onSubmit={(e) => void submit(e)} data-testid="create-app">
      <h3>{t('create.title')}</h3>
      <div className="apps__fields">
        <label>
          <span>{t('create.appId')}</span>
          <input value={appId} onChange={(e) => setAppId(e.target.value)} required maxLength={64} data-testid="create-app-id" />
          <small className="muted">{t('create.appIdHint')}</small>
        </label>
        <label>
          <span>{t('create.name')}</span>
          <input value={name} onChange={(e) => setName(e.target.value)} required maxLength={100} data-testid="create-app-name" />
        </label>
        <label>
          <span>{t('create.skillGroup')}</span>
          <select value={skillGroup} onChange={(e) => setSkillGroup(e.target.value)} data-testid="create-app-group">
            <option value="">{t('create.skillGroupNone')}</option>
            {groups.map((g) => (
              <option key={g} value={g}>
                {g}
              </option>
            ))}
          </select>
        </label>
        <label className="apps__wide">
          <span>{t('create.webhookUrl')}</span>
          <input
            value={webhookUrl}
            onChange={(e) => setWebhookUrl(e.target.value)}
            placeholder="https://"
            maxLength={1024}
            data-testid="create-app-webhook"
          />
          <small className="muted">{t('create.webhookUrlHint')}</small>
        </label>
      </div>
      <div className="apps__actions">
        <button type="submit" disabled={busy || !appId.trim() || !name.trim()} data-testid="create-app-submit">
          {t('create.submit')}
        </button>
        {error ? (
          <span className="apps__error" data-testid="create-app-error">
            {error}
          </span>
        ) : null}
      </div>
    </form>
  );
}

function KeyRow({ app, k, t, onRevoke }: { app: AppAccountView; k: AppKeyView; t: Tr; onRevoke: (k: AppKeyView) => Promise<void> }) {
  const tag = intlTag(useLocale());
  const [confirming, setConfirming] = useState(false);
  const when = (iso: string | null) => (iso ? new Date(iso).toLocaleString(tag) : t('list.never'));
  return (
    <tr data-testid="key-row" data-key-id={k.id} data-hint={k.hint ?? ''} data-revoked={k.revokedAt ? 'yes' : 'no'}>
      <td>
        <code>…{k.hint ?? '????'}</code>
        {k.label ? (
          <span className="apps__key-label" data-testid="key-label">
            <bdi dir="auto">{k.label}</bdi>
          </span>
        ) : null}
      </td>
      <td>{when(k.createdAt)}</td>
      <td>{when(k.lastUsedAt)}</td>
      <td className={k.revokedAt ? 'apps__revoked' : 'apps__active'}>
        {k.revokedAt ? t('list.revokedAt', { at: when(k.revokedAt) }) : t('list.active')}
      </td>
      <td className="apps__cell-actions">
        {app.source === 'admin' && !k.revokedAt ? (
          confirming ? (
            <span className="apps__confirm" data-testid="revoke-confirm">
              <span>{t('list.confirmRevoke', { hint: k.hint ?? '' })}</span>
              <button
                type="button"
                className="danger"
                data-testid="revoke-confirm-yes"
                onClick={() => void onRevoke(k).finally(() => setConfirming(false))}
              >
                {t('list.confirmRevokeButton')}
              </button>
              <button type="button" className="ghost" onClick={() => setConfirming(false)}>
                {t('list.cancel')}
              </button>
            </span>
          ) : (
            <button type="button" className="ghost" data-testid="revoke-key" onClick={() => setConfirming(true)}>
              {t('list.revoke')}
            </button>
          )
        ) : null}
      </td>
    </tr>
  );
}

function AppCard({
  app,
  t,
  onChanged,
  onSecret,
}: {
  app: AppAccountView;
  t: Tr;
  onChanged: () => Promise<void>;
  onSecret: (title: string, value: string) => void;
}) {
  const api = useContext(AppAdminApiContext);
  const token = useWorkstation((s) => s.token)!;
  const [error, setError] = useState<string | null>(null);
  const [rotating, setRotating] = useState(false);
  const [editing, setEditing] = useState(false);
  const [url, setUrl] = useState(app.webhookUrl ?? '');
  const [label, setLabel] = useState('');
  const managed = app.source === 'admin';
  const run = async (action: () => Promise<void>) => {
    setError(null);
    try {
      await action();
      await onChanged();
    } catch (err) {
      setError(errorText(err, t));
    }
  };
  return (
    <section className="apps__card" data-testid="app-card" data-app-id={app.appId}>
      <header className="apps__card-head">
        <div>
          <h3>
            <bdi dir="auto">{app.name}</bdi> <code className="muted">{app.appId}</code>
          </h3>
          <span className={`apps__badge apps__badge--${app.source}`}>{t(`list.source.${app.source}`)}</span>
          {app.deadLetters > 0 ? (
            <span className="apps__badge apps__badge--dead" data-testid="app-dead-count">
              {t('list.deadLetters', { count: app.deadLetters })}
            </span>
          ) : null}
        </div>
        {managed ? (
          <div className="apps__head-actions">
            <input
              className="apps__label-input"
              value={label}
              onChange={(e) => setLabel(e.target.value)}
              placeholder={t('list.keyLabel')}
              aria-label={t('list.keyLabel')}
              maxLength={64}
              data-testid="key-label-input"
            />
            <button
              type="button"
              data-testid="issue-key"
              onClick={() =>
                void run(async () => {
                  const res = await api.issueKey(token, app.appId, label.trim() || undefined);
                  setLabel('');
                  onSecret(t('secret.keyTitle', { app: app.name }), res.key);
                })
              }
            >
              {t('list.issueKey')}
            </button>
            <button type="button" className="ghost" data-testid="rotate-secret" onClick={() => setRotating(true)}>
              {t('list.rotate')}
            </button>
          </div>
        ) : null}
      </header>
      {!managed ? <p className="muted apps__note">{t('list.configNote')}</p> : null}
      {rotating ? (
        <div className="apps__confirm apps__confirm--block" data-testid="rotate-confirm">
          <span>{t('list.confirmRotate')}</span>
          <button
            type="button"
            className="danger"
            data-testid="rotate-confirm-yes"
            onClick={() =>
              void run(async () => {
                const res = await api.rotateSecret(token, app.appId);
                onSecret(t('secret.webhookTitle', { app: app.name }), res.webhookSecret);
              }).finally(() => setRotating(false))
            }
          >
            {t('list.confirmRotateButton')}
          </button>
          <button type="button" className="ghost" onClick={() => setRotating(false)}>
            {t('list.cancel')}
          </button>
        </div>
      ) : null}
      <dl className="apps__facts">
        <dt>{t('list.skillGroup')}</dt>
        <dd>{app.skillGroup ?? t('create.skillGroupNone')}</dd>
        <dt>{t('list.webhook')}</dt>
        <dd>
          {editing ? (
            <span className="apps__inline">
              <input value={url} onChange={(e) => setUrl(e.target.value)} placeholder="https://" data-testid="webhook-input" />
              <button
                type="button"
                data-testid="webhook-save"
                onClick={() =>
                  void run(async () => {
                    const res = await api.update(token, app.appId, { webhookUrl: url.trim() ? url.trim() : null });
                    if (res.webhookSecret) onSecret(t('secret.webhookTitle', { app: app.name }), res.webhookSecret);
                    setEditing(false);
                  })
                }
              >
                {t('list.save')}
              </button>
              <button type="button" className="ghost" onClick={() => setEditing(false)}>
                {t('list.cancel')}
              </button>
            </span>
          ) : (
            <>
              <span className="apps__url" data-testid="app-webhook">
                {app.webhookUrl ?? t('list.noWebhook')}
              </span>
              {managed ? (
                <button type="button" className="linklike" onClick={() => setEditing(true)} data-testid="webhook-edit">
                  {t('list.editWebhook')}
                </button>
              ) : null}
            </>
          )}
        </dd>
      </dl>
      {error ? (
        <p className="apps__error" data-testid="app-error">
          {error}
        </p>
      ) : null}
      <h4>{t('list.keys')}</h4>
      {app.keys.length === 0 ? (
        <p className="muted">{t('list.noKeys')}</p>
      ) : (
        <table className="apps__table">
          <thead>
            <tr>
              <th>{t('list.key')}</th>
              <th>{t('list.created')}</th>
              <th>{t('list.lastUsed')}</th>
              <th>{t('list.state')}</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {app.keys.map((k) => (
              <KeyRow
                key={k.id}
                app={app}
                k={k}
                t={t}
                onRevoke={(key) =>
                  run(async () => {
                    await api.revokeKey(token, app.appId, key.id);
                  })
                }
              />
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function DeadLetters({ t, items, onChanged }: { t: Tr; items: DeadLetterViewDto[]; onChanged: () => Promise<void> }) {
  const api = useContext(AppAdminApiContext);
  const token = useWorkstation((s) => s.token)!;
  const tag = intlTag(useLocale());
  const [errors, setErrors] = useState<Record<string, string>>({});
  const redeliver = async (id: string) => {
    try {
      await api.redeliver(token, id);
      await onChanged();
    } catch (err) {
      setErrors((e) => ({ ...e, [id]: errorText(err, t) }));
    }
  };
  return (
    <section className="apps__card" data-testid="dead-letters">
      <h3>{t('dead.title')}</h3>
      {items.length === 0 ? (
        <p className="muted" data-testid="dead-letters-none">
          {t('dead.none')}
        </p>
      ) : (
        <table className="apps__table">
          <thead>
            <tr>
              <th>{t('dead.app')}</th>
              <th>{t('dead.message')}</th>
              <th>{t('dead.reason')}</th>
              <th>{t('dead.attempts')}</th>
              <th>{t('dead.lastError')}</th>
              <th>{t('dead.when')}</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {items.map((d) => (
              <tr key={d.id} data-testid="dead-letter" data-id={d.id} data-message-id={d.messageId}>
                <td>
                  <code>{d.appId}</code>
                </td>
                <td>
                  <code title={d.messageId}>{d.messageId.slice(-8)}</code>
                </td>
                <td>{d.reason ? t(`dead.reasons.${d.reason}`) : ''}</td>
                <td>{d.attempts}</td>
                <td className="apps__last-error" data-testid="dead-letter-error">
                  {d.lastError ?? ''}
                </td>
                <td>{new Date(d.updatedAt).toLocaleString(tag)}</td>
                <td className="apps__cell-actions">
                  <button type="button" data-testid="redeliver" onClick={() => void redeliver(d.id)}>
                    {t('dead.redeliver')}
                  </button>
                  {errors[d.id] ? <span className="apps__error">{errors[d.id]}</span> : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

/**
 * The Apps view (issue 13, admins only): the app channel's accounts with their keys (issue, revoke
 * with a confirmation), a new app, the webhook secret's rotation, and the webhook dead letters with
 * Redeliver. A key or secret the server makes is shown once (`SecretReveal`) and never again.
 */
export function AppsPage() {
  const { t } = useTranslation('apps');
  const api = useContext(AppAdminApiContext);
  const token = useWorkstation((s) => s.token)!;
  const user = useWorkstation((s) => s.user);
  const [apps, setApps] = useState<AppAccountView[] | null>(null);
  const [dead, setDead] = useState<DeadLetterViewDto[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [secret, setSecret] = useState<{ title: string; value: string } | null>(null);
  const [notice, setNotice] = useState<string | null>(null);

  const load = useCallback(async () => {
    try {
      const [list, letters] = await Promise.all([api.list(token), api.deadLetters(token)]);
      setApps(list.apps);
      setDead(letters.deadLetters);
      setError(null);
    } catch (err) {
      setError(errorText(err, t));
    }
  }, [api, token, t]);

  useEffect(() => {
    void load();
  }, [load]);

  return (
    <main className="apps" data-testid="apps-page">
      <div className="apps__head">
        <h2>{t('title')}</h2>
        <button type="button" className="ghost" onClick={() => void load()} data-testid="apps-refresh">
          {t('refresh')}
        </button>
      </div>
      <p className="muted apps__intro">{t('intro')}</p>
      {error ? <p className="apps__error">{error}</p> : null}
      {secret ? (
        <SecretReveal
          title={secret.title}
          value={secret.value}
          t={t}
          onDone={() => {
            setSecret(null);
            setNotice(null);
          }}
        />
      ) : null}
      {notice ? (
        <p className="apps__notice" data-testid="apps-notice">
          {notice}
        </p>
      ) : null}
      <div className="apps__grid">
        <div className="apps__col">
          {apps === null ? (
            <p className="muted">{t('loading')}</p>
          ) : apps.length === 0 ? (
            <p className="muted">{t('list.none')}</p>
          ) : (
            apps.map((a) => (
              <AppCard
                key={a.appId}
                app={a}
                t={t}
                onChanged={load}
                onSecret={(title, value) => {
                  setNotice(null);
                  setSecret({ title, value });
                }}
              />
            ))
          )}
          <DeadLetters t={t} items={dead} onChanged={load} />
        </div>
        <div className="apps__col apps__col--side">
          <CreateApp
            t={t}
            groups={user?.skillGroups ?? []}
            onCreated={(app, webhookSecret) => {
              setNotice(t('create.created', { name: app.name }));
              if (webhookSecret) setSecret({ title: t('secret.webhookTitle', { app: app.name }), value: webhookSecret });
              void load();
            }}
          />
        </div>
      </div>
    </main>
  );
}
