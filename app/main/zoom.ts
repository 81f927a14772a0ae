import { ZOOM_LEVEL_MAX, ZOOM_LEVEL_MIN, type PreferenceStore } from './settings';

/** The slice of WebContents zoom memory uses. */
export interface ZoomableContents {
  getZoomLevel(): number;
  setZoomLevel(level: number): void;
  on(event: 'zoom-changed', listener: (event: unknown, direction: 'in' | 'out') => void): unknown;
  on(event: 'did-finish-load', listener: () => void): unknown;
}

/** Half a Chromium zoom level per step (≈ 10 %), finer than the browser's default whole step. */
const STEP = 0.5;

export interface ZoomControl {
  zoomIn(): void;
  zoomOut(): void;
  reset(): void;
  level(): number;
}

/**
 * Zoom that is remembered (issue 15): every change (menu, keyboard, Ctrl + wheel / pinch, which
 * Electron reports as `zoom-changed` without applying it) is clamped, applied and saved; each page
 * load gets the saved level back.
 */
export function rememberZoom(contents: ZoomableContents, prefs: PreferenceStore): ZoomControl {
  const apply = (level: number) => {
    const clamped = Math.min(ZOOM_LEVEL_MAX, Math.max(ZOOM_LEVEL_MIN, Math.round(level / STEP) * STEP));
    contents.setZoomLevel(clamped);
    if (clamped !== prefs.get().zoomLevel) prefs.set({ zoomLevel: clamped });
  };
  contents.on('did-finish-load', () => contents.setZoomLevel(prefs.get().zoomLevel));
  contents.on('zoom-changed', (_event, direction) => apply(contents.getZoomLevel() + (direction === 'in' ? STEP : -STEP)));
  return {
    zoomIn: () => apply(contents.getZoomLevel() + STEP),
    zoomOut: () => apply(contents.getZoomLevel() - STEP),
    reset: () => apply(0),
    level: () => prefs.get().zoomLevel,
  };
}
