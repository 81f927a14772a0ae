import type { Messages } from './messages';

/** Keyboard shortcuts and their `?` overlay (issue 15). */
export const en = {
  title: 'Keyboard shortcuts',
  close: 'Close',
  hint: 'Shortcuts work when you are not typing in a field; Esc closes this list.',
  inComposer: 'in the reply box',
  actions: {
    help: 'Show this list',
    acceptOffer: 'Accept the offered contact',
    declineOffer: 'Decline the offered contact',
    next: 'Next conversation in the queue',
    previous: 'Previous conversation in the queue',
    focusComposer: 'Write a reply (focus the reply box)',
    send: 'Send the reply',
    canned: 'Open canned replies',
    note: 'Add an internal note',
    transfer: 'Transfer the conversation',
    wrapUp: 'Wrap up and close',
    available: 'Set presence: available',
    busy: 'Set presence: busy',
    away: 'Set presence: away',
  },
} as const;

export const zh: Messages<typeof en> = {
  title: '键盘快捷键',
  close: '关闭',
  hint: '不在输入框中输入时快捷键生效；按 Esc 关闭此列表。',
  inComposer: '在回复框中',
  actions: {
    help: '显示此列表',
    acceptOffer: '接受分配的会话',
    declineOffer: '拒绝分配的会话',
    next: '队列中的下一个会话',
    previous: '队列中的上一个会话',
    focusComposer: '写回复（聚焦回复框）',
    send: '发送回复',
    canned: '打开快捷回复',
    note: '添加内部备注',
    transfer: '转接会话',
    wrapUp: '小结并关闭',
    available: '设置状态：空闲',
    busy: '设置状态：忙碌',
    away: '设置状态：离开',
  },
};
