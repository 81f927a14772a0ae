import { useWorkstation } from '../context';
import type { SettablePresence } from '../../../../common/socket/agent-events';
import { useTranslation } from 'react-i18next';
import { useFormat } from '../format';
import { canApprovePrivacy, canManageApps, canViewAudit, canViewBoard, canViewKpis, canViewRouting } from '../staff';
import { worksQueue } from '../stores/auth';
import { canSupervise } from '../stores/supervision';
import { LanguageSwitch } from './LanguageSwitch';
import { PresenceLoad } from './collision/PresenceLoad';

/**
 * The workstation's views: the agent's desk, the routing page for leads, admins and auditors (issue
 * 11), the KPI view and the live board for leads and admins (issue 16), supervision for leads and admins
 * (issue 16), the Apps page for admins (issue 13), the audit log for auditors and the privacy requests
 * for privacy officers (issue 17).
 */
export type View = 'workstation' | 'supervise' | 'board' | 'routing' | 'kpis' | 'apps' | 'audit' | 'privacy';

export function TopBar({ view = 'workstation', onView }: { view?: View; onView?: (view: View) => void }) {
  const user = useWorkstation((s) => s.user);
  const link = useWorkstation((s) => s.link);
  const linkDrop = useWorkstation((s) => s.linkDrop);
  const presence = useWorkstation((s) => s.presence);
  const presenceUntil = useWorkstation((s) => s.presenceUntil);
  const setPresence = useWorkstation((s) => s.setPresence);
  const presenceBy = useWorkstation((s) => s.presenceChangedBy);
  const logout = useWorkstation((s) => s.logout);
  const { t: tv } = useTranslation(['supervision', 'board', 'routing', 'kpis', 'apps', 'audit']);
  const { t: td } = useTranslation('desk', { keyPrefix: 'top' });
  const { clockTime } = useFormat();
  const views: View[] = [
    ...(worksQueue(user) ? (['workstation'] as const) : []),
    ...(canViewBoard(user) ? (['board'] as const) : []),
    ...(canSupervise(user) ? (['supervise'] as const) : []),
    ...(canViewKpis(user) ? (['kpis'] as const) : []),
    ...(canViewRouting(user) ? (['routing'] as const) : []),
    ...(canManageApps(user) ? (['apps'] as const) : []),
    ...(canViewAudit(user) ? (['audit'] as const) : []),
    ...(canApprovePrivacy(user) ? (['privacy'] as const) : []),
  ];
  const labels: Record<View, string> = {
    workstation: td('viewWorkstation'),
    supervise: tv('supervision:tab'),
    board: tv('board:tab'),
    routing: tv('routing:shell.viewRouting'),
    kpis: tv('kpis:tab'),
    apps: tv('apps:tab'),
    audit: tv('audit:tab'),
    privacy: td('privacyTab'),
  };
  const label = (v: View) => labels[v];
  const linkLabel = td(`link.${link}`);
  return (
    <header className="topbar">
      <div className="topbar__left">
        <div className="topbar__brand">
          汇流 <span>Huiliu</span>
        </div>
        {onView && (views.length > 1 || views[0] !== 'workstation') ? (
          <div className="views" role="tablist" aria-label={td('views')}>
            {views.map((v) => (
              <button
                key={v}
                type="button"
                role="tab"
                aria-selected={view === v}
                className={view === v ? 'views__tab views__tab--on' : 'views__tab'}
                data-testid={`view-${v}`}
                onClick={() => onView(v)}
              >
                {label(v)}
              </button>
            ))}
          </div>
        ) : null}
      </div>
      <div className="topbar__right">
        {worksQueue(user) ? (
          <>
            <span
              className={`link link--${link}`}
              data-testid="link-state"
              data-link-reason={linkDrop?.reason}
              data-link-drops={linkDrop?.count}
            >
              {linkLabel}
            </span>
            <select
              aria-label={td('presence')}
              value={presence}
              onChange={(e) => void setPresence(e.target.value as SettablePresence)}
              className={`presence presence--${presence}`}
            >
              <option value="available">{td('presences.available')}</option>
              <option value="busy">{td('presences.busy')}</option>
              <option value="away">{td('presences.away')}</option>
              {presence === 'after-call-work' && (
                <option value="after-call-work" disabled>
                  {td('presences.after-call-work')}
                  {presenceUntil ? td('until', { time: clockTime(presenceUntil) }) : ''}
                </option>
              )}
            </select>
            <PresenceLoad />
            {presenceBy ? (
              <span className="presence-by" role="status" data-testid="presence-changed-by">
                {tv('supervision:presenceChangedBy', { name: presenceBy.name, presence: td(`presences.${presenceBy.presence}`) })}
              </span>
            ) : null}
          </>
        ) : null}
        <LanguageSwitch />
        <span
          className="topbar__user"
          data-testid="current-user"
          title={user ? [user.displayName, user.skillGroups.join(', ')].filter(Boolean).join(' · ') : undefined}
        >
          <bdi dir="auto">{user?.displayName}</bdi>
          {user?.skillGroups.length ? ` · ${user.skillGroups.join(', ')}` : null}
        </span>
        <button type="button" className="ghost" onClick={() => void logout()}>
          {td('signOut')}
        </button>
      </div>
    </header>
  );
}
