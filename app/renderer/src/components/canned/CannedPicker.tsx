import { useEffect, useRef, useState, type KeyboardEvent } from 'react';
import type { CannedReply } from '../../../../../common/api/canned';
import './canned.css';
import { useCannedApi } from '../../api/canned';
import { isImeComposing } from '../ime';
import { useTranslation } from 'react-i18next';

/**
 * The `/word` the cursor stands at the end of (issue 15): a `/` at the start of the text or after
 * white space, then up to 32 letters, digits, `-` or `_`. `start` is the index of the `/`.
 * Null when the cursor is not in such a word (a URL's `a/b` is not one).
 */
export function cannedQueryAt(text: string, cursor: number): { query: string; start: number } | null {
  const m = /(^|\s)\/([\p{L}\p{N}_-]{0,32})$/u.exec(text.slice(0, cursor));
  if (!m) return null;
  const query = m[2]!;
  return { query, start: cursor - query.length - 1 };
}

/** The text with `/query` (from `start` to `cursor`) replaced by `reply`, and where the cursor goes (after it). */
export function applyCanned(text: string, start: number, cursor: number, reply: string): { value: string; cursor: number } {
  const value = text.slice(0, start) + reply + text.slice(cursor);
  return { value, cursor: start + reply.length };
}

export interface CannedPicker {
  /** Open: the cursor is in a `/word`. */
  open: boolean;
  items: CannedReply[];
  active: number;
  loading: boolean;
  failed: boolean;
  /** Handles ↑ ↓ Enter Tab Esc while open; true when the key was the picker's (the composer ignores it then). */
  onKeyDown(e: KeyboardEvent<HTMLTextAreaElement>): boolean;
  choose(index: number): void;
}

/**
 * The composer's canned-reply search: while the cursor is in a `/word`, asks the server (debounced
 * 120 ms; only the newest answer counts) and offers the replies; choosing one replaces the `/word`
 * with its text through `onApply`. `token` null (e.g. in note mode) keeps it closed.
 */
export function useCannedPicker(
  text: string,
  cursor: number,
  token: string | null,
  onApply: (next: { value: string; cursor: number }) => void,
): CannedPicker {
  const api = useCannedApi();
  const at = token ? cannedQueryAt(text, cursor) : null;
  const query = at?.query ?? null;
  const [items, setItems] = useState<CannedReply[]>([]);
  const [active, setActive] = useState(0);
  const [loading, setLoading] = useState(false);
  const [failed, setFailed] = useState(false);
  // Esc closes the picker for this `/word` until the cursor leaves it.
  const [dismissedAt, setDismissedAt] = useState<number | null>(null);
  const asked = useRef(0);

  useEffect(() => {
    if (query === null || !token) return;
    const id = ++asked.current;
    setLoading(true);
    const timer = setTimeout(() => {
      api
        .search(token, query)
        .then((found) => {
          if (id !== asked.current) return;
          setItems(found);
          setActive(0);
          setFailed(false);
        })
        .catch(() => {
          if (id === asked.current) setFailed(true);
        })
        .finally(() => {
          if (id === asked.current) setLoading(false);
        });
    }, 120);
    return () => clearTimeout(timer);
  }, [api, query, token]);

  const start = at?.start ?? null;
  useEffect(() => {
    if (start !== dismissedAt) setDismissedAt(null);
  }, [start, dismissedAt]);

  const open = at !== null && dismissedAt !== at.start;
  const choose = (index: number) => {
    const reply = items[index];
    if (!at || !reply) return;
    onApply(applyCanned(text, at.start, cursor, reply.text));
  };
  return {
    open,
    items,
    active,
    loading,
    failed,
    choose,
    onKeyDown(e) {
      // The input method's own Enter / Esc / arrows (choosing a pinyin candidate) are not the picker's.
      if (!open || isImeComposing(e)) return false;
      if (e.key === 'Escape') {
        e.preventDefault();
        setDismissedAt(at.start);
        return true;
      }
      if (items.length === 0) return false;
      if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
        e.preventDefault();
        const step = e.key === 'ArrowDown' ? 1 : -1;
        setActive((i) => (i + step + items.length) % items.length);
        return true;
      }
      if ((e.key === 'Enter' && !e.shiftKey) || e.key === 'Tab') {
        e.preventDefault();
        choose(active);
        return true;
      }
      return false;
    },
  };
}

/** The picker's list above the composer (a listbox; the composer keeps the focus). */
export function CannedList({ picker }: { picker: CannedPicker }) {
  const { t } = useTranslation('canned');
  if (!picker.open) return null;
  return (
    <div className="canned" data-testid="canned-picker">
      <div className="canned__head">
        <strong>{t('title')}</strong>
        <span className="canned__hint">{t('hint')}</span>
      </div>
      {picker.failed ? (
        <p className="canned__empty" role="alert">
          {t('failed')}
        </p>
      ) : picker.items.length === 0 ? (
        <p className="canned__empty">{picker.loading ? t('loading') : t('none')}</p>
      ) : (
        <ul role="listbox" aria-label={t('title')}>
          {picker.items.map((r, i) => (
            <li
              key={r.id}
              role="option"
              aria-selected={i === picker.active}
              className={i === picker.active ? 'canned__item canned__item--on' : 'canned__item'}
              data-testid="canned-item"
              // mousedown, not click: the composer keeps its focus and cursor.
              onMouseDown={(e) => {
                e.preventDefault();
                picker.choose(i);
              }}
            >
              <span className="canned__shortcut">/{r.shortcut}</span>
              <span className="canned__title" dir="auto">
                {r.title}
              </span>
              {r.ownerId ? <span className="canned__mine">{t('personal')}</span> : null}
              <span className="canned__text" dir="auto">
                {r.text}
              </span>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
