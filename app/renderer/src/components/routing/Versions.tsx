import { useState } from 'react';
import type { RoutingConfigVersionView } from '../../../../../common/api/routing';
import { useLocale } from '../../context';
import { localeTag, routingStrings, type RoutingStrings } from '../../i18n-routing';
import { diffConfigs, fieldLabel, showValue } from '../../routing-form';
import { publisherName } from '../../staff';
import { useAdmin } from './admin-context';

function Differences({ version, t }: { version: RoutingConfigVersionView; t: RoutingStrings }) {
  const current = useAdmin((s) => s.current!);
  const changes = diffConfigs(current.config, version.config);
  return (
    <div className="version__diff" data-testid="version-diff">
      <strong className="small">{t.versions.diffTitle}</strong>
      {changes.length === 0 ? (
        <p className="muted small">{t.versions.same}</p>
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
  const t = routingStrings(locale);
  const v = t.versions;
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
        <h3>{v.title}</h3>
      </header>
      <table className="grid-table">
        <thead>
          <tr>
            <th>{v.version}</th>
            <th>{v.author}</th>
            <th>{v.time}</th>
            <th>{v.comment}</th>
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
                  v{ver.version} {inForce ? <span className="badge badge--current">{v.inForce}</span> : null}
                </td>
                <td>
                  <bdi dir="auto">{publisherName(staff, ver.publishedBy, t.page.configFile)}</bdi>
                </td>
                <td className="small nowrap">{new Date(ver.publishedAt).toLocaleString(localeTag(locale))}</td>
                <td className="version__comment">{ver.comment ?? <span className="muted">{t.page.noComment}</span>}</td>
                <td>
                  <div className="actions">
                    <button type="button" className="ghost small-btn" onClick={() => view(viewing === ver.version ? null : ver.version)}>
                      {viewing === ver.version ? v.hide : v.view}
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
                        {v.rollback}
                      </button>
                    ) : null}
                  </div>
                </td>
              </tr>,
              confirming === ver.version ? (
                <tr key={`${ver.version}-confirm`} className="version__more">
                  <td colSpan={5}>
                    <div className="confirm" role="alertdialog" aria-label={v.confirm(ver.version)} data-testid="rollback-confirm">
                      <span>{v.confirm(ver.version)}</span>
                      <input
                        value={comment}
                        onChange={(e) => setComment(e.target.value)}
                        placeholder={v.rollbackComment}
                        aria-label={v.rollbackComment}
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
                        {v.confirmButton}
                      </button>
                      <button type="button" className="ghost" onClick={() => setConfirming(null)}>
                        {v.cancel}
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
                        {v.editFrom}
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
