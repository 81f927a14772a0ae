/** A keydown as React or the DOM gives it (React's has the DOM event as `nativeEvent`). */
type KeyLike = {
  key: string;
  shiftKey?: boolean;
  isComposing?: boolean;
  keyCode?: number;
  nativeEvent?: { isComposing?: boolean; keyCode?: number };
};

/**
 * True while an input method (Chinese pinyin or wubi, Japanese kana…) is composing text: its Enter
 * confirms the candidate and its Esc cancels it, so they are not the app's Enter or Esc. Browsers
 * mark those keydowns `isComposing` (UI Events §4.3.2); WebKit sends the confirming Enter after
 * `compositionend` with only `keyCode` 229 (the "Process" key), so that counts too.
 */
export function isImeComposing(e: KeyLike): boolean {
  const native = e.nativeEvent ?? e;
  return native.isComposing === true || e.isComposing === true || native.keyCode === 229 || e.keyCode === 229;
}

/**
 * Whether a keydown in a message box sends it: Enter without Shift (Shift+Enter is a new line), and
 * not the Enter that confirms an input method's candidate (an agent typing pinyin would otherwise
 * send half a sentence, in Latin letters, to the customer).
 */
export function sendsOnEnter(e: KeyLike): boolean {
  return e.key === 'Enter' && !e.shiftKey && !isImeComposing(e);
}
