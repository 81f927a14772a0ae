/**
 * The waiting-contacts badge. macOS (dock) and Linux (Unity) show a number through
 * `app.setBadgeCount`; Windows has no app badge, so the taskbar button gets an overlay dot with the
 * count as its accessible description. The tray icon (when there is one) shows the same count.
 */
export interface BadgeApis {
  platform: string;
  setBadgeCount(count: number): void;
  /** BrowserWindow.setOverlayIcon with the badge image (null clears it). */
  setOverlay(withBadge: boolean, description: string): void;
  /** The overlay's accessible description (localised by main's i18n; English by default). */
  describe?: (count: number) => string;
  /** The tray icon's count (TrayService.setWaiting). */
  tray?: { setWaiting(count: number): void };
}

export function createBadgeSetter(apis: BadgeApis): (count: number) => void {
  const describe = apis.describe ?? ((n: number) => `${n} waiting`);
  return (count) => {
    if (apis.platform === 'win32') apis.setOverlay(count > 0, count > 0 ? describe(count) : '');
    else apis.setBadgeCount(count);
    apis.tray?.setWaiting(count);
  };
}
