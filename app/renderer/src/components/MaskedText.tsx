import { useEffect, useState } from 'react';
import type { Role } from '../../../../common/api/auth';
import { hasMaskedRun } from '../../../../common/privacy/staff-view';
import { useTranslation } from 'react-i18next';
import { useWorkstation } from '../context';

/** Roles with the `pii.reveal` act (server/src/auth/policy.ts); the server checks it again, by skill group. */
const REVEALERS: readonly Role[] = ['agent', 'lead'];

/**
 * Text staff see with personal data masked (issue 17): when it holds a masked run and the user may
 * reveal, a small "Show" / "显示" button beside it asks the server (`reveal`, audited there) and shows
 * the real value in place. The button is a real `<button>` (keyboard reachable) with an accessible
 * name saying the view is recorded; a refusal shows a short note and leaves the text masked.
 * `text`: the masked text as the view carries it; `reveal`: resolves with the unmasked text.
 */
export function MaskedText({ text, reveal, className }: { text: string; reveal: () => Promise<string | null>; className?: string }) {
  const { t } = useTranslation('desk', { keyPrefix: 'reveal' });
  const mayReveal = useWorkstation((s) => Boolean(s.user?.roles.some((r) => REVEALERS.includes(r))));
  const [shown, setShown] = useState<string | null>(null);
  const [state, setState] = useState<'idle' | 'loading' | 'failed'>('idle');
  // A new text (another message, or the same one updated) starts masked again.
  useEffect(() => {
    setShown(null);
    setState('idle');
  }, [text]);
  const masked = shown === null && hasMaskedRun(text);

  async function show() {
    setState('loading');
    try {
      const value = await reveal();
      setShown(value ?? text);
      setState('idle');
    } catch {
      setState('failed');
    }
  }

  // One inline element, so a flex bubble keeps the button on the text's line.
  return (
    <span className={className}>
      <span dir="auto" data-testid={masked ? 'masked-text' : undefined} title={masked ? t('maskedTitle') : undefined}>
        {shown ?? text}
      </span>
      {masked && mayReveal ? (
        <>
          {' '}
          <button
            type="button"
            className="linklike reveal"
            aria-label={t('showLabel')}
            data-testid="reveal-pii"
            disabled={state === 'loading'}
            onClick={() => void show()}
          >
            {t('show')}
          </button>
          {state === 'failed' ? (
            <span className="small muted" role="status">
              {' '}
              {t('failed')}
            </span>
          ) : null}
        </>
      ) : null}
    </span>
  );
}
