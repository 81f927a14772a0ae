import { describe, expect, it } from 'vitest';
import { PreferenceStore } from './settings';
import { rememberZoom, type ZoomableContents } from './zoom';

function setup(saved?: number) {
  const files = new Map<string, string>(saved === undefined ? [] : [['/p', JSON.stringify({ zoomLevel: saved })]]);
  const fs = { read: (p: string) => files.get(p) ?? '{}', write: (p: string, t: string) => void files.set(p, t) };
  const listeners: Record<string, (...args: unknown[]) => void> = {};
  let level = 0;
  const contents: ZoomableContents = {
    getZoomLevel: () => level,
    setZoomLevel: (l) => void (level = l),
    on: (event: string, l: (...args: never[]) => void) => void (listeners[event] = l as (...args: unknown[]) => void),
  };
  const zoom = rememberZoom(contents, new PreferenceStore('/p', fs));
  return { zoom, listeners, level: () => level, reopen: () => new PreferenceStore('/p', fs).get().zoomLevel };
}

describe('zoom remembered', () => {
  it('restores the saved level on every page load', () => {
    const s = setup(1.5);
    s.listeners['did-finish-load']!();
    expect(s.level()).toBe(1.5);
  });

  it('applies and saves menu/keyboard zoom and Ctrl + wheel, clamped', () => {
    const s = setup();
    s.zoom.zoomIn();
    s.zoom.zoomIn();
    s.listeners['zoom-changed']!({}, 'in');
    expect(s.level()).toBe(1.5);
    expect(s.reopen()).toBe(1.5);
    for (let i = 0; i < 30; i++) s.zoom.zoomOut();
    expect(s.level()).toBe(-3);
    s.zoom.reset();
    expect(s.reopen()).toBe(0);
  });
});
