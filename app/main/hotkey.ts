/** Electron's globalShortcut, the part used here. */
export interface GlobalShortcutLike {
  register(accelerator: string, callback: () => void): boolean;
  unregister(accelerator: string): void;
}

export interface FocusHotkey {
  /** The accelerator in use (or wanted, when another app holds it). */
  readonly accelerator: string;
  readonly registered: boolean;
  /** Moves the hotkey; on failure the old one stays registered. Returns whether the new one is. */
  change(accelerator: string): boolean;
  /** Unregisters it (on quit: a global shortcut outlives nothing). */
  dispose(): void;
}

/**
 * The global hotkey that brings the workstation to the front from any app (issue 15; default
 * CommandOrControl+Shift+H, configurable). Registration fails when another app holds the keys:
 * that is reported (`registered: false`), never thrown.
 */
export function registerFocusHotkey(shortcuts: GlobalShortcutLike, accelerator: string, onPress: () => void): FocusHotkey {
  const tryRegister = (a: string) => {
    try {
      return shortcuts.register(a, onPress);
    } catch {
      return false; // an accelerator Electron cannot parse
    }
  };
  let current = accelerator;
  let registered = tryRegister(accelerator);
  return {
    get accelerator() {
      return current;
    },
    get registered() {
      return registered;
    },
    change(next) {
      if (next === current && registered) return true;
      if (!tryRegister(next)) return false;
      if (registered && next !== current) shortcuts.unregister(current);
      current = next;
      registered = true;
      return true;
    },
    dispose() {
      if (registered) shortcuts.unregister(current);
      registered = false;
    },
  };
}
