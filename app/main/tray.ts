import type { MainStrings } from './i18n';

/** The slice of Electron's Tray used here. */
export interface TrayLike {
  setToolTip(text: string): void;
  /** macOS: text beside the menu-bar icon. */
  setTitle(title: string): void;
  setContextMenu(menu: unknown): void;
  on(event: 'click', listener: () => void): unknown;
  destroy(): void;
}

export interface TrayMenuItem {
  label: string;
  click: () => void;
}

export interface TrayDeps {
  platform: string;
  createTray(): TrayLike;
  /** `Menu.buildFromTemplate`. */
  buildMenu(items: TrayMenuItem[]): unknown;
  strings: MainStrings;
  onShow(): void;
  onQuit(): void;
}

/**
 * The tray (Windows notification area, macOS menu bar) icon with the waiting count and pending offer
 * notifications in its tooltip (and, on macOS, as text beside the icon); clicking it brings the
 * workstation to the front.
 */
export class TrayService {
  readonly #tray: TrayLike;
  readonly #d: TrayDeps;
  #waiting = 0;
  #offers = 0;

  constructor(d: TrayDeps) {
    this.#d = d;
    this.#tray = d.createTray();
    this.#tray.on('click', () => d.onShow());
    this.#render();
  }

  /** The number of waiting contacts (the badge's count). */
  setWaiting(count: number): void {
    this.#waiting = Math.max(0, Math.trunc(count));
    this.#render();
  }

  /** The offers whose notification is not acknowledged yet. */
  setPendingOffers(count: number): void {
    this.#offers = Math.max(0, Math.trunc(count));
    this.#render();
  }

  /** What the tray shows now (tests, and the menu's first line). */
  get tooltip(): string {
    const s = this.#d.strings;
    const base = this.#waiting > 0 ? s.trayWaiting(this.#waiting) : s.trayIdle;
    return this.#offers > 0 ? `${base} · ${s.trayOffers(this.#offers)}` : base;
  }

  #render(): void {
    const s = this.#d.strings;
    this.#tray.setToolTip(this.tooltip);
    if (this.#d.platform === 'darwin') this.#tray.setTitle(this.#waiting > 0 ? String(Math.min(this.#waiting, 999)) : '');
    this.#tray.setContextMenu(
      this.#d.buildMenu([
        { label: this.#waiting > 0 ? `${s.show} (${this.#waiting})` : s.show, click: () => this.#d.onShow() },
        { label: s.quit, click: () => this.#d.onQuit() },
      ]),
    );
  }

  destroy(): void {
    this.#tray.destroy();
  }
}
