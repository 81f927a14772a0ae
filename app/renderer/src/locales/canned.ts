import type { Messages } from './messages';

/** The composer's canned-reply picker (issue 15). */
export const en = {
  title: 'Canned replies',
  hint: '↑ ↓ choose · Enter or Tab insert · Esc close',
  none: 'No canned reply matches.',
  loading: 'Searching…',
  personal: 'mine',
  failed: 'Canned replies could not be loaded.',
} as const;

export const zh: Messages<typeof en> = {
  title: '快捷回复',
  hint: '↑ ↓ 选择 · Enter 或 Tab 插入 · Esc 关闭',
  none: '没有匹配的快捷回复。',
  loading: '正在搜索…',
  personal: '我的',
  failed: '无法加载快捷回复。',
};
