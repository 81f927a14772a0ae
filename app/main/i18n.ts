/**
 * The few strings Electron main shows itself (tray, its menu, the application menu), in Simplified
 * Chinese and English. The renderer has its own i18n layer; main cannot import it (dependency rules).
 */
export type MainLocale = 'zh' | 'en';

const STRINGS = {
  en: {
    appName: 'Huiliu',
    trayIdle: 'Huiliu — nothing waiting',
    trayWaiting: (n: number) => `Huiliu — ${n} waiting`,
    trayOffers: (n: number) => `${n} new ${n === 1 ? 'offer' : 'offers'}`,
    show: 'Show Huiliu',
    quit: 'Quit Huiliu',
    view: 'View',
    zoomIn: 'Zoom in',
    zoomOut: 'Zoom out',
    zoomReset: 'Actual size',
    waitingBadge: (n: number) => `${n} waiting`,
    updateReady: 'Update ready',
    updateReadyBody: (version: string) => `Huiliu ${version} is downloaded and installs when you quit.`,
  },
  zh: {
    appName: '汇流',
    trayIdle: '汇流 — 暂无等待',
    trayWaiting: (n: number) => `汇流 — ${n} 位客户等待中`,
    trayOffers: (n: number) => `${n} 个新分配`,
    show: '显示汇流',
    quit: '退出汇流',
    view: '视图',
    zoomIn: '放大',
    zoomOut: '缩小',
    zoomReset: '实际大小',
    waitingBadge: (n: number) => `${n} 位等待中`,
    updateReady: '更新已就绪',
    updateReadyBody: (version: string) => `汇流 ${version} 已下载，退出时安装。`,
  },
} as const;
export type MainStrings = (typeof STRINGS)['en'];

/** Chinese for any `zh*` OS locale (Electron's `app.getLocale()`, e.g. `zh-CN`, `zh-TW`), English otherwise. */
export function mainLocale(osLocale: string): MainLocale {
  return /^zh\b/i.test(osLocale) ? 'zh' : 'en';
}

export function mainStrings(locale: MainLocale): MainStrings {
  return STRINGS[locale] as MainStrings;
}
