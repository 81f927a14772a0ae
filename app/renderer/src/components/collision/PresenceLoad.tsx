import { useTranslation } from 'react-i18next';
import { useWorkstation } from '../../context';
import { useCollision } from './collision-hooks';

/**
 * The top bar's presence with load against capacity (issue 15), e.g. "● Available · 2/4 chats":
 * live from `agent:load`; the presence follows the workstation's own when it changed more recently.
 */
export function PresenceLoad() {
  const { t } = useTranslation('presence');
  const load = useCollision((s) => s.load);
  const presence = useWorkstation((s) => s.presence);
  if (!load) return null;
  const full = load.capacity > 0 && load.activeChats >= load.capacity;
  return (
    <span
      className={`presence-load presence-load--${presence}${full ? ' presence-load--full' : ''}`}
      role="status"
      aria-label={t('label')}
      title={t('loadTitle', { active: load.activeChats, capacity: load.capacity })}
      data-testid="presence-load"
    >
      <span className="presence-load__dot" aria-hidden="true" />
      {t(`state.${presence}`)} · {t('load', { active: load.activeChats, capacity: load.capacity })}
    </span>
  );
}
