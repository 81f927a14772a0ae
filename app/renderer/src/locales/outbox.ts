import type { Messages } from './messages';

/** Issue 15: the outbox, local history and drafts, offer alerts. */
export const en = {
  sending: 'sending…',
  queued: 'queued · sends when the connection is back',
  refused: 'not delivered: ',
  retry: 'Retry',
  dismiss: 'Dismiss',
  offline: 'Offline: replies are kept in the outbox and sent in order when the connection is back.',
  offlineCount_one: 'Offline: {{count}} reply waits in the outbox; it is sent when the connection is back.',
  offlineCount_other: 'Offline: {{count}} replies wait in the outbox; they are sent in order when the connection is back.',
  refusedAccept: 'Your accept of {{session}} was refused: ',
  refusedWrapUp: 'Your wrap-up of {{session}} was refused: ',
  localHistory: 'Recent messages kept on this computer; loading the rest…',
} as const;

export const zh: Messages<typeof en> = {
  sending: '发送中…',
  queued: '已排队 · 连接恢复后发送',
  refused: '未送达：',
  retry: '重试',
  dismiss: '关闭',
  offline: '已离线：回复保存在发件箱中，连接恢复后按顺序发送。',
  offlineCount_one: '已离线：{{count}} 条回复在发件箱中等待，连接恢复后发送。',
  offlineCount_other: '已离线：{{count}} 条回复在发件箱中等待，连接恢复后按顺序发送。',
  refusedAccept: '接受 {{session}} 被拒绝：',
  refusedWrapUp: '{{session}} 的结束处理被拒绝：',
  localHistory: '本机保存的最近消息；正在加载其余消息…',
};
