import { useWorkstation } from '../context';
import type { SettablePresence } from '../../../../common/socket/agent-events';

export function TopBar() {
  const user = useWorkstation((s) => s.user);
  const link = useWorkstation((s) => s.link);
  const presence = useWorkstation((s) => s.presence);
  const presenceUntil = useWorkstation((s) => s.presenceUntil);
  const setPresence = useWorkstation((s) => s.setPresence);
  const logout = useWorkstation((s) => s.logout);
  const linkLabel = link === 'online' ? 'Connected' : link === 'connecting' ? 'Reconnecting…' : 'Offline';
  return (
    <header className="topbar">
      <div className="topbar__brand">
        汇流 <span>Huiliu</span>
      </div>
      <div className="topbar__right">
        <span className={`link link--${link}`} data-testid="link-state">
          {linkLabel}
        </span>
        <select
          aria-label="Presence"
          value={presence}
          onChange={(e) => void setPresence(e.target.value as SettablePresence)}
          className={`presence presence--${presence}`}
        >
          <option value="available">Available</option>
          <option value="busy">Busy</option>
          <option value="away">Away</option>
          {presence === 'after-call-work' && (
            <option value="after-call-work" disabled>
              After-call work{presenceUntil ? ` · until ${new Date(presenceUntil).toLocaleTimeString()}` : ''}
            </option>
          )}
        </select>
        <span className="topbar__user" data-testid="current-user">
          <bdi dir="auto">{user?.displayName}</bdi> · {user?.skillGroups.join(', ')}
        </span>
        <button type="button" className="ghost" onClick={() => void logout()}>
          Sign out
        </button>
      </div>
    </header>
  );
}
