/**
 * The waiting-contacts badge. macOS (dock) and Linux (Unity) show a number through
 * `app.setBadgeCount`; Windows has no app badge, so the taskbar button gets an overlay dot with the
 * count as its accessible description.
 */
export interface BadgeApis {
  platform: string;
  setBadgeCount(count: number): void;
  /** BrowserWindow.setOverlayIcon with the badge image (null clears it). */
  setOverlay(withBadge: boolean, description: string): void;
}

export function createBadgeSetter(apis: BadgeApis): (count: number) => void {
  return (count) => {
    if (apis.platform === 'win32') apis.setOverlay(count > 0, count > 0 ? `${count} waiting` : '');
    else apis.setBadgeCount(count);
  };
}
