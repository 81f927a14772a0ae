import type { DesktopBridge } from '../../../../common/ipc/desktop-bridge';

/**
 * A desktop bridge for renderer tests: the workstation as it runs in a plain browser tab, where every
 * desktop call answers `{ ok: false, error: { code: 'INTERNAL' } }` and no session is focused from
 * outside. Test-only (imported by `*.test.tsx`; the renderer's own code uses `bridge/browser.ts`).
 */
export function offlineBridge(): DesktopBridge {
  const unavailable = async () => ({ ok: false as const, error: { code: 'INTERNAL' as const, message: 'n/a' } });
  return {
    appInfo: unavailable,
    notify: unavailable,
    setBadge: unavailable,
    openExternal: unavailable,
    onFocusSession: () => () => undefined,
  };
}
