import { useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useWorkstation } from '../../context';
import { COMPOSER_SELECTOR, SHORTCUTS, shortcutFor, type ShortcutAction } from './shortcuts';
import './shortcuts.css';

const click = (selector: string) => document.querySelector<HTMLElement>(selector)?.click();
const composer = () => document.querySelector<HTMLTextAreaElement>(COMPOSER_SELECTOR);

/** Puts `/` in the empty reply box (React sees it as typed) so the canned-reply picker opens. */
function startCanned(): void {
  const box = composer();
  if (!box) return;
  box.focus();
  if (box.value === '') {
    const setter = Object.getOwnPropertyDescriptor(HTMLTextAreaElement.prototype, 'value')?.set;
    setter?.call(box, '/');
    box.dispatchEvent(new Event('input', { bubbles: true }));
    box.setSelectionRange(1, 1);
  }
}

/**
 * The workstation's keyboard shortcuts (issue 15): one listener on the window runs the action of the
 * key pressed (the table in shortcuts.ts), and `?` shows that same table; Esc closes it.
 */
export function ShortcutsOverlay() {
  const { t } = useTranslation('shortcuts');
  const [open, setOpen] = useState(false);
  const closeRef = useRef<HTMLButtonElement>(null);
  const offers = useWorkstation((s) => s.offers);
  const openSessionId = useWorkstation((s) => s.openSessionId);
  const accept = useWorkstation((s) => s.accept);
  const decline = useWorkstation((s) => s.decline);
  const openSession = useWorkstation((s) => s.openSession);
  const setPresence = useWorkstation((s) => s.setPresence);

  // The handler reads the newest state through a ref: the listener is added once.
  const state = useRef({ offers, openSessionId, accept, decline, openSession, setPresence });
  state.current = { offers, openSessionId, accept, decline, openSession, setPresence };

  useEffect(() => {
    const offered = () => {
      const { offers, openSessionId } = state.current;
      return openSessionId && offers[openSessionId] ? openSessionId : (Object.keys(offers)[0] ?? null);
    };
    const step = (by: number) => {
      const ids = [...document.querySelectorAll<HTMLElement>('[data-testid="queue-item"]')].map((el) => el.dataset['sessionId'] ?? '');
      if (ids.length === 0) return;
      const at = ids.indexOf(state.current.openSessionId ?? '');
      const next = ids[at < 0 ? (by > 0 ? 0 : ids.length - 1) : (at + by + ids.length) % ids.length];
      if (next) void state.current.openSession(next);
    };
    const run: Record<ShortcutAction, () => void> = {
      help: () => setOpen((v) => !v),
      acceptOffer: () => {
        const id = offered();
        if (id) void state.current.accept(id);
      },
      declineOffer: () => {
        const id = offered();
        if (id) void state.current.decline(id);
      },
      next: () => step(1),
      previous: () => step(-1),
      focusComposer: () => composer()?.focus(),
      send: () => click('[data-testid="composer-submit"]'),
      canned: startCanned,
      note: () => {
        click('[data-testid="mode-note"]');
        requestAnimationFrame(() => composer()?.focus());
      },
      transfer: () => click('[data-testid="transfer-button"]'),
      wrapUp: () => click('[data-testid="wrapup-button"]'),
      available: () => void state.current.setPresence('available'),
      busy: () => void state.current.setPresence('busy'),
      away: () => void state.current.setPresence('away'),
    };
    const onKey = (e: KeyboardEvent) => {
      const shortcut = shortcutFor(e);
      if (!shortcut) return;
      e.preventDefault();
      run[shortcut.action]();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);

  useEffect(() => {
    if (!open) return;
    closeRef.current?.focus();
    const onEsc = (e: KeyboardEvent) => {
      if (e.key === 'Escape') setOpen(false);
    };
    window.addEventListener('keydown', onEsc);
    return () => window.removeEventListener('keydown', onEsc);
  }, [open]);

  if (!open) return null;
  return (
    <div className="shortcuts-backdrop" onClick={() => setOpen(false)}>
      <div
        className="shortcuts"
        role="dialog"
        aria-modal="true"
        aria-labelledby="shortcuts-title"
        data-testid="shortcuts-overlay"
        onClick={(e) => e.stopPropagation()}
      >
        <header className="shortcuts__head">
          <h2 id="shortcuts-title">{t('title')}</h2>
          <button ref={closeRef} type="button" className="ghost" onClick={() => setOpen(false)}>
            {t('close')}
          </button>
        </header>
        <table className="shortcuts__table">
          <tbody>
            {SHORTCUTS.map((s) => (
              <tr key={s.action} data-testid={`shortcut-${s.action}`}>
                <td className="shortcuts__keys">
                  {s.keys.map((k, i) => (
                    <span key={k}>
                      {i > 0 ? ' + ' : null}
                      <kbd>{k}</kbd>
                    </span>
                  ))}
                </td>
                <td>
                  {t(`actions.${s.action}`)}
                  {s.scope === 'composer' ? <small className="muted"> ({t('inComposer')})</small> : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        <p className="muted shortcuts__hint">{t('hint')}</p>
      </div>
    </div>
  );
}
