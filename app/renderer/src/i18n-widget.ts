import type { Locale } from './i18n';

/**
 * The strings of the web widget's product features as agents see them (issue 13) in every
 * workstation language: a visitor's file in the conversation. Read with `widgetStrings(useLocale())`.
 */
export interface WidgetStrings {
  /** The download link of a customer's file: its name and size. */
  download: (name: string, size: string) => string;
  downloading: string;
  downloadFailed: string;
  /** A file size for people: bytes, KB or MB. */
  size: (bytes: number) => string;
}

const size = (bytes: number, units: [string, string, string]) =>
  bytes < 1024
    ? `${bytes} ${units[0]}`
    : bytes < 1024 * 1024
      ? `${(bytes / 1024).toFixed(1)} ${units[1]}`
      : `${(bytes / 1024 / 1024).toFixed(1)} ${units[2]}`;

const STRINGS: Record<Locale, WidgetStrings> = {
  en: {
    download: (name, s) => `Download ${name} (${s})`,
    downloading: 'Downloading…',
    downloadFailed: 'The file could not be downloaded.',
    size: (b) => size(b, ['bytes', 'KB', 'MB']),
  },
  zh: {
    download: (name, s) => `下载 ${name}（${s}）`,
    downloading: '正在下载…',
    downloadFailed: '文件下载失败。',
    size: (b) => size(b, ['字节', 'KB', 'MB']),
  },
};

export function widgetStrings(locale: Locale): WidgetStrings {
  return STRINGS[locale];
}
