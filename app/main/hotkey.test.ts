import { describe, expect, it, vi } from 'vitest';
import { registerFocusHotkey, type GlobalShortcutLike } from './hotkey';
import { DEFAULT_FOCUS_HOTKEY } from './settings';

function fakeShortcuts(heldByOthers: string[] = []) {
  const registered = new Map<string, () => void>();
  const shortcuts: GlobalShortcutLike = {
    register: (a, cb) => {
      if (heldByOthers.includes(a) || registered.has(a)) return false;
      registered.set(a, cb);
      return true;
    },
    unregister: (a) => void registered.delete(a),
  };
  return { shortcuts, registered };
}

describe('global focus hotkey', () => {
  it('registers the default, focuses the app when pressed, and unregisters on quit', () => {
    const { shortcuts, registered } = fakeShortcuts();
    const focus = vi.fn();
    const hotkey = registerFocusHotkey(shortcuts, DEFAULT_FOCUS_HOTKEY, focus);
    expect(hotkey.registered).toBe(true);
    registered.get('CommandOrControl+Shift+H')!();
    expect(focus).toHaveBeenCalledTimes(1);
    hotkey.dispose();
    expect(registered.size).toBe(0);
  });

  it('moves to a new accelerator, keeping the old one when the new one is taken', () => {
    const { shortcuts, registered } = fakeShortcuts(['Alt+Shift+T']);
    const hotkey = registerFocusHotkey(shortcuts, DEFAULT_FOCUS_HOTKEY, vi.fn());
    expect(hotkey.change('Alt+Shift+T')).toBe(false);
    expect([...registered.keys()]).toEqual([DEFAULT_FOCUS_HOTKEY]);
    expect(hotkey.change('Ctrl+Alt+J')).toBe(true);
    expect([...registered.keys()]).toEqual(['Ctrl+Alt+J']);
    expect(hotkey.accelerator).toBe('Ctrl+Alt+J');
  });

  it('reports, never throws, when another app holds the keys or Electron refuses them', () => {
    const taken = registerFocusHotkey(fakeShortcuts([DEFAULT_FOCUS_HOTKEY]).shortcuts, DEFAULT_FOCUS_HOTKEY, vi.fn());
    expect(taken.registered).toBe(false);
    const throwing = registerFocusHotkey(
      {
        register: () => {
          throw new Error('bad accelerator');
        },
        unregister: vi.fn(),
      },
      'Ctrl+Nope',
      vi.fn(),
    );
    expect(throwing.registered).toBe(false);
    expect(() => throwing.dispose()).not.toThrow();
  });
});
