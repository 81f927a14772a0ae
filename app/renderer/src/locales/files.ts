import type { Messages } from './messages';

/**
 * A visitor’s file in the conversation as agents see it (issue 13). i18next syntax: `{{name}}` interpolates,
 * `_one`/`_other` are plural forms chosen by `count`.
 */
export const en = {
  download: 'Download {{name}} ({{s}})',
  downloading: 'Downloading…',
  downloadFailed: 'The file could not be downloaded.',
  bytes: '{{value}} bytes',
  kb: '{{value, number(minimumFractionDigits: 1; maximumFractionDigits: 1)}} KB',
  mb: '{{value, number(minimumFractionDigits: 1; maximumFractionDigits: 1)}} MB',
} as const;

export const zh: Messages<typeof en> = {
  download: '下载 {{name}}（{{s}}）',
  downloading: '正在下载…',
  downloadFailed: '文件下载失败。',
  bytes: '{{value}} 字节',
  kb: '{{value, number(minimumFractionDigits: 1; maximumFractionDigits: 1)}} KB',
  mb: '{{value, number(minimumFractionDigits: 1; maximumFractionDigits: 1)}} MB',
};
