import type { en } from '../../locales/shortcuts';

/** What a shortcut does; each is a label in the `shortcuts` namespace (`actions.<id>`). */
export type ShortcutAction = keyof (typeof en)['actions'];

/**
 * One keyboard shortcut (issue 15). `global`: fires only when focus is not in a text field, select
 * or editable element; `composer`: fires while typing in the reply box (and nowhere else).
 */
export interface Shortcut {
  action: ShortcutAction;
  /** The keys as shown in the overlay, e.g. `['Ctrl', 'Enter']`. */
  keys: readonly string[];
  scope: 'global' | 'composer';
  /** Whether a keydown is this shortcut. */
  match(e: Pick<KeyboardEvent, 'key' | 'ctrlKey' | 'metaKey' | 'altKey' | 'shiftKey'>): boolean;
}

type Key = Pick<KeyboardEvent, 'key' | 'ctrlKey' | 'metaKey' | 'altKey' | 'shiftKey'>;
/** A plain key: no Ctrl, Cmd or Alt (Shift is part of the character, e.g. `?`). */
const plain = (key: string) => (e: Key) => e.key === key && !e.ctrlKey && !e.metaKey && !e.altKey;

/**
 * The one table of the workstation's shortcuts: the key handler and the `?` overlay both read it, so
 * the list shown is the list that works.
 */
export const SHORTCUTS: readonly Shortcut[] = [
  { action: 'help', keys: ['?'], scope: 'global', match: plain('?') },
  { action: 'acceptOffer', keys: ['A'], scope: 'global', match: (e) => plain('a')(e) || plain('A')(e) },
  { action: 'declineOffer', keys: ['D'], scope: 'global', match: (e) => plain('d')(e) || plain('D')(e) },
  { action: 'next', keys: ['J'], scope: 'global', match: (e) => plain('j')(e) || plain('J')(e) },
  { action: 'previous', keys: ['K'], scope: 'global', match: (e) => plain('k')(e) || plain('K')(e) },
  { action: 'focusComposer', keys: ['R'], scope: 'global', match: (e) => plain('r')(e) || plain('R')(e) },
  { action: 'send', keys: ['Ctrl', 'Enter'], scope: 'composer', match: (e) => e.key === 'Enter' && (e.ctrlKey || e.metaKey) },
  { action: 'canned', keys: ['/'], scope: 'global', match: plain('/') },
  { action: 'note', keys: ['N'], scope: 'global', match: (e) => plain('n')(e) || plain('N')(e) },
  { action: 'transfer', keys: ['T'], scope: 'global', match: (e) => plain('t')(e) || plain('T')(e) },
  { action: 'wrapUp', keys: ['W'], scope: 'global', match: (e) => plain('w')(e) || plain('W')(e) },
  { action: 'available', keys: ['1'], scope: 'global', match: plain('1') },
  { action: 'busy', keys: ['2'], scope: 'global', match: plain('2') },
  { action: 'away', keys: ['3'], scope: 'global', match: plain('3') },
];

/** True when the element takes typed text (the global shortcuts stay quiet there). */
export function isTypingTarget(target: EventTarget | null): boolean {
  if (!target || typeof (target as Element).tagName !== 'string') return false;
  const el = target as HTMLElement;
  const tag = el.tagName.toLowerCase();
  if (tag === 'textarea' || tag === 'select') return true;
  if (tag === 'input') {
    const type = (el as HTMLInputElement).type;
    return !['button', 'checkbox', 'radio', 'submit', 'reset', 'range', 'color', 'file'].includes(type);
  }
  return el.isContentEditable;
}

/** The element the composer scope means: the reply box. */
export const COMPOSER_SELECTOR = '[data-testid="composer"]';

/**
 * The shortcut a keydown means here, or null: global ones only outside text fields, composer ones
 * only in the reply box; a key already handled (`defaultPrevented`, e.g. the canned picker's) is none.
 */
export function shortcutFor(e: Key & { target: EventTarget | null; defaultPrevented: boolean; isComposing?: boolean }): Shortcut | null {
  // A key an input method is composing with (pinyin's Ctrl+Enter, digits choosing a candidate) is not ours.
  if (e.defaultPrevented || e.isComposing === true) return null;
  const typing = isTypingTarget(e.target);
  const inComposer = typing && (e.target as Element).matches?.(COMPOSER_SELECTOR) === true;
  for (const s of SHORTCUTS) {
    if (!s.match(e)) continue;
    if (s.scope === 'global' && !typing) return s;
    if (s.scope === 'composer' && inComposer) return s;
  }
  return null;
}
