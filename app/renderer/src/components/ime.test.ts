// @vitest-environment jsdom
import { describe, expect, it } from 'vitest';
import { isImeComposing, sendsOnEnter } from './ime';
import { shortcutFor } from './shortcuts/shortcuts';

describe('keys an input method is composing with (Chinese agents type pinyin)', () => {
  it('does not send on the Enter that confirms a candidate, in Chromium (isComposing) or WebKit (keyCode 229)', () => {
    expect(sendsOnEnter(new KeyboardEvent('keydown', { key: 'Enter' }))).toBe(true);
    expect(sendsOnEnter(new KeyboardEvent('keydown', { key: 'Enter', shiftKey: true }))).toBe(false);
    expect(sendsOnEnter(new KeyboardEvent('keydown', { key: 'Enter', isComposing: true }))).toBe(false);
    expect(sendsOnEnter(new KeyboardEvent('keydown', { key: 'Enter', keyCode: 229 }))).toBe(false);
    // React's synthetic event carries the DOM one as nativeEvent.
    expect(sendsOnEnter({ key: 'Enter', nativeEvent: new KeyboardEvent('keydown', { key: 'Enter', isComposing: true }) })).toBe(false);
    expect(isImeComposing({ key: 'Escape', nativeEvent: { isComposing: true } })).toBe(true);
  });

  it('takes no shortcut from a composing key (Ctrl+Enter in the reply box while a candidate is open)', () => {
    const composer = document.createElement('textarea');
    composer.dataset['testid'] = 'composer';
    const base = { key: 'Enter', ctrlKey: true, metaKey: false, altKey: false, shiftKey: false, target: composer, defaultPrevented: false };
    expect(shortcutFor(base)?.action).toBe('send');
    expect(shortcutFor({ ...base, isComposing: true })).toBeNull();
  });
});
