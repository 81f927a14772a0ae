import type { Messages } from './messages';

/** The top bar's presence and load against capacity (issue 15). */
export const en = {
  label: 'Chats against capacity',
  state: {
    available: 'Available',
    busy: 'Busy',
    'after-call-work': 'After-call work',
    away: 'Away',
    offline: 'Offline',
  },
  load: '{{active}}/{{capacity}} chats',
  loadTitle: 'You hold {{active}} of at most {{capacity}} chats at once.',
} as const;

export const zh: Messages<typeof en> = {
  label: '会话负载',
  state: {
    available: '空闲',
    busy: '忙碌',
    'after-call-work': '话后处理',
    away: '离开',
    offline: '离线',
  },
  load: '{{active}}/{{capacity}} 个会话',
  loadTitle: '你正在处理 {{active}} 个会话，最多同时 {{capacity}} 个。',
};
