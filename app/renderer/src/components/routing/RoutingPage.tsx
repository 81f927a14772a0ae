import { useEffect, useMemo, useState } from 'react';
import { useLocale, useWorkstation } from '../../context';
import { diffConfigs, fieldLabel, showValue, validateDraft, type ConfigChange } from '../../routing-form';
import { canManageRouting, publisherName, useRoutingApi } from '../../staff';
import { createRoutingAdminStore } from '../../stores/routing-admin';
import { ConfigEditor } from './ConfigEditor';
import { DecisionLookup } from './DecisionLookup';
import { Versions } from './Versions';
import { WhatIf, errorText } from './WhatIf';
import { EditorContext, RoutingAdminContext, issuesByPath, useAdmin } from './admin-context';
import './routing.css';
import type { TFunction } from 'i18next';
import { useTranslation } from 'react-i18next';
import { intlTag } from '../../locale';

/** The routing namespace's translate function (react-i18next). */
type Tr = TFunction<'routing'>;

/** The version in force: number, author, time, comment. */
function CurrentVersion({ t }: { t: Tr }) {
  const current = useAdmin((s) => s.current!);
  const staff = useAdmin((s) => s.staff);
  const tag = intlTag(useLocale());
  return (
    <div className="routing__current" data-testid="current-version" data-version={current.version}>
      <strong>{t('page.inForce', { v: current.version })}</strong>
      <span className="muted">
        {t('page.publishedBy', {
          who: publisherName(staff, current.publishedBy, t('page.configFile')),
          at: new Date(current.publishedAt).toLocaleString(tag),
        })}
      </span>
      <span className="routing__comment">“{current.comment ?? t('page.noComment')}”</span>
    </div>
  );
}

/** The draft's state and, for admins, the comment and Publish; every problem listed by field. */
function DraftBar({
  t,
  changes,
  problems,
  canManage,
}: {
  t: Tr;
  changes: readonly ConfigChange[];
  problems: { path: string; text: string }[];
  canManage: boolean;
}) {
  const current = useAdmin((s) => s.current!);
  const comment = useAdmin((s) => s.comment);
  const setComment = useAdmin((s) => s.setComment);
  const publish = useAdmin((s) => s.publish);
  const publishing = useAdmin((s) => s.publishing);
  const publishError = useAdmin((s) => s.publishError);
  const notice = useAdmin((s) => s.notice);
  const resetDraft = useAdmin((s) => s.resetDraft);
  const versions = useAdmin((s) => s.versions);
  const next = Math.max(current.version, ...versions.map((v) => v.version)) + 1;
  const blocker = problems.length > 0 ? t('publish.fixProblems') : !comment.trim() ? t('publish.commentNeeded') : null;
  return (
    <div className="draftbar" data-testid="draft-bar">
      <div className="draftbar__row">
        <span className={changes.length ? 'draftbar__status draftbar__status--dirty' : 'draftbar__status'} data-testid="draft-status">
          {changes.length
            ? t('editor.changes', { count: changes.length, v: current.version })
            : t('editor.noChanges', { v: current.version })}
        </span>
        {changes.length > 0 ? (
          <ul className="changes changes--inline" data-testid="draft-changes">
            {changes.slice(0, 6).map((c) => (
              <li key={c.path}>
                {fieldLabel(c.path, t)}: <span className="muted">{showValue(c.path, c.from)}</span> →{' '}
                <strong>{showValue(c.path, c.to)}</strong>
              </li>
            ))}
            {changes.length > 6 ? <li className="muted">+{changes.length - 6}</li> : null}
          </ul>
        ) : null}
        {canManage && changes.length > 0 ? (
          <button type="button" className="ghost small-btn" onClick={() => resetDraft()}>
            {t('editor.discard')}
          </button>
        ) : null}
      </div>
      {canManage ? (
        <div className="draftbar__row draftbar__publish">
          <input
            className="draftbar__comment"
            value={comment}
            onChange={(ev) => setComment(ev.target.value)}
            placeholder={t('publish.commentPlaceholder')}
            aria-label={t('publish.comment')}
            maxLength={500}
            data-testid="publish-comment"
          />
          <button
            type="button"
            data-testid="publish"
            disabled={changes.length === 0 || blocker !== null || publishing}
            title={blocker ?? undefined}
            onClick={() => void publish()}
          >
            {publishing ? t('publish.publishing') : t('publish.publishAs', { v: next })}
          </button>
          {changes.length > 0 && blocker ? <span className="muted small">{blocker}</span> : null}
        </div>
      ) : (
        <p className="muted small" data-testid="read-only">
          {t('page.readOnly')}
        </p>
      )}
      {problems.length > 0 ? (
        <ul className="problems" role="alert" data-testid="problems">
          <li className="problems__title">{t('editor.problems', { count: problems.length })}</li>
          {problems.map((p, i) => (
            <li key={`${p.path}-${i}`}>
              <strong>{fieldLabel(p.path, t)}</strong>: {p.text}
            </li>
          ))}
        </ul>
      ) : null}
      {publishError ? (
        <p className="error-line" role="alert" data-testid="publish-error">
          {t('publish.failed', { why: errorText(publishError, t) })}
        </p>
      ) : null}
      {notice ? (
        <p className="notice" role="status" data-testid="publish-notice">
          {notice.kind === 'published'
            ? t('publish.published', { v: notice.version })
            : t('versions.rolledBack', { from: notice.from, v: notice.version })}
        </p>
      ) : null}
    </div>
  );
}

function Loaded({ canManage }: { canManage: boolean }) {
  const { t } = useTranslation('routing');
  const draft = useAdmin((s) => s.draft!);
  const current = useAdmin((s) => s.current!);
  const serverIssues = useAdmin((s) => s.serverIssues);
  const clientIssues = useMemo(() => validateDraft(draft, t), [draft, t]);
  const changes = useMemo(() => diffConfigs(current.config, draft), [current, draft]);
  const issues = useMemo(() => issuesByPath(clientIssues, serverIssues, t('issues.server')), [clientIssues, serverIssues, t]);
  const problems = [...clientIssues, ...serverIssues.map((i) => ({ path: i.path, text: `${t('issues.server')}: ${i.message}` }))];
  return (
    <EditorContext.Provider value={{ issues, readOnly: !canManage }}>
      <div className="routing__head">
        <h2>{t('page.title')}</h2>
        <CurrentVersion t={t} />
      </div>
      <DraftBar t={t} changes={changes} problems={problems} canManage={canManage} />
      <div className="routing__cols">
        <div className="routing__editor">
          <ConfigEditor changes={changes} />
        </div>
        <div className="routing__side">
          <WhatIf blocked={clientIssues.length > 0} />
          <Versions canManage={canManage} />
          <DecisionLookup />
        </div>
      </div>
    </EditorContext.Provider>
  );
}

/**
 * The routing admin page (issue 11) for leads, admins and auditors: the version in force, the draft
 * editor, the what-if comparison, publishing (admins), the versions with rollback (admins) and the
 * decision lookup. A new store for each visit: leaving the page forgets an unpublished draft.
 */
export function RoutingPage() {
  const api = useRoutingApi();
  const token = useWorkstation((s) => s.token);
  const user = useWorkstation((s) => s.user);
  const { t } = useTranslation('routing');
  const [store] = useState(() => createRoutingAdminStore({ api, token: token ?? '' }));
  useEffect(() => {
    void store.getState().load();
  }, [store]);
  return (
    <RoutingAdminContext.Provider value={store}>
      <main className="routing" data-testid="routing-page" aria-label={t('page.title')}>
        <Status t={t} canManage={canManageRouting(user)} />
      </main>
    </RoutingAdminContext.Provider>
  );
}

function Status({ t, canManage }: { t: Tr; canManage: boolean }) {
  const status = useAdmin((s) => s.status);
  const loadError = useAdmin((s) => s.loadError);
  const load = useAdmin((s) => s.load);
  if (status === 'loading') return <p className="routing__msg muted">{t('page.loading')}</p>;
  if (status === 'failed')
    return (
      <p className="routing__msg error-line" role="alert">
        {t('page.loadFailed', { why: loadError ? errorText(loadError, t) : '' })}{' '}
        <button type="button" className="ghost small-btn" onClick={() => void load()}>
          {t('page.retry')}
        </button>
      </p>
    );
  return <Loaded canManage={canManage} />;
}
