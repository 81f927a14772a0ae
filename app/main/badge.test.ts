import { describe, expect, it, vi } from 'vitest';
import { createBadgeSetter } from './badge';

describe('waiting-contacts badge', () => {
  it('uses the dock / launcher count on macOS and Linux', () => {
    const apis = { platform: 'darwin', setBadgeCount: vi.fn(), setOverlay: vi.fn() };
    createBadgeSetter(apis)(4);
    expect(apis.setBadgeCount).toHaveBeenCalledWith(4);
    expect(apis.setOverlay).not.toHaveBeenCalled();
  });

  it('uses a taskbar overlay on Windows, cleared at zero', () => {
    const apis = { platform: 'win32', setBadgeCount: vi.fn(), setOverlay: vi.fn() };
    const set = createBadgeSetter(apis);
    set(3);
    set(0);
    expect(apis.setOverlay.mock.calls).toEqual([
      [true, '3 waiting'],
      [false, ''],
    ]);
    expect(apis.setBadgeCount).not.toHaveBeenCalled();
  });
});
