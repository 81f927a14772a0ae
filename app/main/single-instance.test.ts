import { describe, expect, it, vi } from 'vitest';
import { claimSingleInstance, focusWindow } from './single-instance';

function fakeApp(lock: boolean) {
  let second: (() => void) | null = null;
  return {
    requestSingleInstanceLock: vi.fn(() => lock),
    quit: vi.fn(),
    on: vi.fn((_event: 'second-instance', l: () => void) => void (second = l)),
    launchAgain: () => second?.(),
  };
}
const fakeWindow = (minimized: boolean) => ({ isMinimized: () => minimized, restore: vi.fn(), show: vi.fn(), focus: vi.fn() });

describe('single-instance lock', () => {
  it('the second launch quits without starting', () => {
    const app = fakeApp(false);
    expect(claimSingleInstance(app, () => null)).toBe(false);
    expect(app.quit).toHaveBeenCalled();
    expect(app.on).not.toHaveBeenCalled();
  });

  it('the first instance comes to the front (restored from minimized) when launched again', () => {
    const app = fakeApp(true);
    const win = fakeWindow(true);
    expect(claimSingleInstance(app, () => win)).toBe(true);
    expect(app.quit).not.toHaveBeenCalled();
    app.launchAgain();
    expect(win.restore).toHaveBeenCalled();
    expect(win.show).toHaveBeenCalled();
    expect(win.focus).toHaveBeenCalled();
  });

  it('a launch before the window exists is harmless', () => {
    const app = fakeApp(true);
    claimSingleInstance(app, () => null);
    expect(() => app.launchAgain()).not.toThrow();
    expect(focusWindow(null)).toBe(false);
    const shown = fakeWindow(false);
    focusWindow(shown);
    expect(shown.restore).not.toHaveBeenCalled();
  });
});
