import { useState } from 'react';
import type { RoutingConfigVersionView } from '../../../../../common/api/routing';
import { useLocale } from '../../context';
import { diffConfigs, fieldLabel, showValue } from '../../routing-form';
import { publisherName } from '../../staff';
import { useAdmin } from './admin-context';
import type { TFunction } from 'i18next';
import { useTranslation } from 'react-i18next';
import { intlTag } from '../../locale';

/** The routing namespace's translate function (react-i18next). */
type Tr = TFunction<'routing'>;

function Differences({ version, t }: { version: RoutingConfigVersionView; t: Tr }) {
  const current = useAdmin((s) => s.current!);
  const changes = diffConfigs(current.config, version.config);
  return (
    <div className="version__diff" data-testid="version-diff">
      <strong className="small">{t('versions.diffTitle')}</strong>
      {changes.length === 0 ? (
        <p className="muted small">{t('versions.same')}</p>
      ) : (
        <ul className="changes">
          {changes.map((c) => (
            <li key={c.path}>
              <span>{fieldLabel(c.path, t)}</span> <span className="muted">{showValue(c.path, c.from)}</span> →{' '}
              <strong>{showValue(c.path, c.to)}</strong>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

/**
 * Every published version, newest first (issue 11): who, when, why; "View" shows how it differs from
 * the version in force; admins may start a draft from it or roll back to it (published again as a
 * new version, after a confirmation).
 */
export function Versions({ canManage }: { canManage: boolean }) {
  const locale = useLocale();
  const { t } = useTranslation('routing');
  const versions = useAdmin((s) => s.versions);
  const current = useAdmin((s) => s.current);
  const staff = useAdmin((s) => s.staff);
  const viewing = useAdmin((s) => s.viewing);
  const view = useAdmin((s) => s.view);
  const rollback = useAdmin((s) => s.rollback);
  const resetDraft = useAdmin((s) => s.resetDraft);
  const busy = useAdmin((s) => s.publishing);
  const [confirming, setConfirming] = useState<number | null>(null);
  const [comment, setComment] = useState('');
  const newestFirst = [...versions].reverse();
  return (
    <section className="card versions" data-testid="versions">
      <header className="card__head">
        <h3>{t('versions.title')}</h3>
      </header>
      <table className="grid-table">
        <thead>
          <tr>
            <th>{t('versions.version')}</th>
            <th>{t('versions.author')}</th>
            <th>{t('versions.time')}</th>
            <th>{t('versions.comment')}</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {newestFirst.map((ver) => {
            const inForce = ver.version === current?.version;
            return [
              <tr
                key={ver.version}
                data-testid="version-row"
                data-version={ver.version}
                className={inForce ? 'version--current' : undefined}
              >
                <td className="nowrap">
                  v{ver.version} {inForce ? <span className="badge badge--current">{t('versions.inForce')}</span> : null}
                </td>
                <td>
                  <bdi dir="auto">{publisherName(staff, ver.publishedBy, t('page.configFile'))}</bdi>
                </td>
                <td className="small nowrap">{new Date(ver.publishedAt).toLocaleString(intlTag(locale))}</td>
                <td className="version__comment">{ver.comment ?? <span className="muted">{t('page.noComment')}</span>}</td>
                <td>
                  <div className="actions">
                    <button type="button" className="ghost small-btn" onClick={() => view(viewing === ver.version ? null : ver.version)}>
                      {viewing === ver.version ? t('versions.hide') : t('versions.view')}
                    </button>
                    {canManage && !inForce ? (
                      <button
                        type="button"
                        className="ghost small-btn"
                        data-testid="rollback"
                        disabled={busy}
                        onClick={() => {
                          setConfirming(ver.version);
                          setComment('');
                        }}
                      >
                        {t('versions.rollback')}
                      </button>
                    ) : null}
                  </div>
                </td>
              </tr>,
              confirming === ver.version ? (
                <tr key={`${ver.version}-confirm`} className="version__more">
                  <td colSpan={5}>
                    <div
                      className="confirm"
                      role="alertdialog"
                      aria-label={t('versions.confirm', { v: ver.version })}
                      data-testid="rollback-confirm"
                    >
                      <span>{t('versions.confirm', { v: ver.version })}</span>
                      <input
                        value={comment}
                        onChange={(e) => setComment(e.target.value)}
                        placeholder={t('versions.rollbackComment')}
                        aria-label={t('versions.rollbackComment')}
                      />
                      <button
                        type="button"
                        className="danger"
                        disabled={busy}
                        onClick={() => {
                          setConfirming(null);
                          void rollback(ver.version, comment);
                        }}
                      >
                        {t('versions.confirmButton')}
                      </button>
                      <button type="button" className="ghost" onClick={() => setConfirming(null)}>
                        {t('versions.cancel')}
                      </button>
                    </div>
                  </td>
                </tr>
              ) : null,
              viewing === ver.version ? (
                <tr key={`${ver.version}-view`} className="version__more">
                  <td colSpan={5}>
                    <Differences version={ver} t={t} />
                    {canManage && !inForce ? (
                      <button type="button" className="ghost small-btn" onClick={() => resetDraft(ver.config)}>
                        {t('versions.editFrom')}
                      </button>
                    ) : null}
                  </td>
                </tr>
              ) : null,
            ];
          })}
        </tbody>
      </table>
    </section>
  );
}
