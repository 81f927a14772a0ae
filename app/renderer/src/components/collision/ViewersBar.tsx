import { useTranslation } from 'react-i18next';
import { graphemes } from '../../../../../common/text/text';
import { useWorkstation } from '../../context';
import { useCollision } from './collision-hooks';
import { othersViewing } from './collision-store';

/** "Also viewing: Agent Two" in the conversation header, live (issue 15). Nothing when nobody else views it. */
export function ViewersBar({ sessionId }: { sessionId: string }) {
  const { t } = useTranslation('collision');
  const meId = useWorkstation((s) => s.user?.id ?? null);
  const viewers = useCollision((s) => s.viewers[sessionId]);
  const others = othersViewing(viewers, meId);
  if (others.length === 0) return null;
  return (
    <div className="viewers" role="status" aria-live="polite" data-testid="viewers">
      <span className="viewers__label">{t('alsoViewing')}</span>
      {others.map((v) => (
        <span key={v.id} className={`viewer viewer--${v.via}${v.assigned ? ' viewer--assigned' : ''}`} data-testid="viewer">
          <span className="viewer__avatar" aria-hidden="true">
            {initials(v.name)}
          </span>
          <bdi dir="auto">{v.name}</bdi>
          {v.assigned ? <small> · {t('handling')}</small> : v.via === 'supervising' ? <small> · {t('supervising')}</small> : null}
        </span>
      ))}
    </div>
  );
}

/**
 * Up to two initials of a name ("Agent Two" → "AT", "李雷" → "李"), each a whole grapheme: an emoji
 * family, a flag or a letter with its accent is never cut in half.
 */
export function initials(name: string): string {
  const words = name.trim().split(/\s+/u).filter(Boolean);
  if (words.length === 0) return '?';
  return words
    .slice(0, words.length === 1 ? 1 : 2)
    .map((w) => graphemes(w)[0] ?? '')
    .join('')
    .toUpperCase();
}
