import type { Locale } from './i18n';

/** The strings of internal notes (issue 15) and the lead's supervision (issue 16), zh and en. */
export interface SupervisionStrings {
  tab: string;
  title: string;
  intro: string;
  refresh: string;
  none: string;
  loading: string;
  supervise: string;
  columns: { customer: string; channel: string; group: string; status: string; agent: string; waiting: string };
  statuses: Record<'bot' | 'queued' | 'offered' | 'active' | 'closed', string>;
  unassigned: string;
  back: string;
  readOnly: string;
  live: string;
  whisper: string;
  whisperPlaceholder: string;
  /** Why the whisper box is off: no agent holds the contact (waiting, with the AI). */
  whisperNoAgent: string;
  barge: string;
  bargeHint: string;
  bargePlaceholder: string;
  send: string;
  sendToCustomer: string;
  reassign: string;
  reassignTo: string;
  toQueue: string;
  reassignDone: string;
  agents: string;
  noAgents: string;
  presences: Record<'available' | 'busy' | 'after-call-work' | 'away' | 'offline', string>;
  setPresence: (name: string) => string;
  load: (n: number) => string;
  /** A note in the timeline. */
  note: string;
  whisperFrom: (name: string) => string;
  whisperTo: (name: string) => string;
  noteBy: (name: string) => string;
  /** The composer's modes. */
  /** The label of the Reply / Note switch (not containing “Reply”: the composer's label is that). */
  composerMode: string;
  modeReply: string;
  modeNote: string;
  notePlaceholder: string;
  addNote: string;
  presenceChangedBy: (name: string, presence: string) => string;
  errors: Record<string, string> & { fallback: string };
}

const SUPERVISION_STRINGS: Record<Locale, SupervisionStrings> = {
  en: {
    tab: 'Supervise',
    title: 'Supervise',
    intro:
      'Open conversations of your skill groups. Watch one read-only and live, whisper to its agent, barge in, reassign it or change an agent’s state. Every action is audited.',
    refresh: 'Refresh',
    none: 'No open conversations in your groups.',
    loading: 'Loading…',
    supervise: 'Supervise',
    columns: { customer: 'Customer', channel: 'Channel', group: 'Group', status: 'Status', agent: 'Agent', waiting: 'Since' },
    statuses: { bot: 'With AI', queued: 'Waiting', offered: 'Offered', active: 'Active', closed: 'Closed' },
    unassigned: '—',
    back: '← All conversations',
    readOnly: 'Read-only: you are supervising this conversation.',
    live: 'Live',
    whisper: 'Whisper to the agent',
    whisperPlaceholder: 'Only the agent sees this… (Enter to send)',
    whisperNoAgent: 'No agent holds this contact yet: there is nobody to whisper to. You can still barge in.',
    barge: 'Barge in',
    bargeHint: 'Barge in: your message goes to the customer',
    bargePlaceholder: 'Write to the customer… (Enter to send)',
    send: 'Whisper',
    sendToCustomer: 'Send to customer',
    reassign: 'Reassign',
    reassignTo: 'Reassign to',
    toQueue: 'Back to the queue',
    reassignDone: 'Reassigned.',
    agents: 'Agents',
    noAgents: 'No agents of your groups are signed in.',
    presences: { available: 'Available', busy: 'Busy', 'after-call-work': 'After-call work', away: 'Away', offline: 'Offline' },
    setPresence: (name) => `State of ${name}`,
    load: (n) => `${n} chat${n === 1 ? '' : 's'}`,
    note: 'Internal note',
    whisperFrom: (name) => `Whisper from ${name}`,
    whisperTo: (name) => `to ${name}`,
    noteBy: (name) => `by ${name}`,
    composerMode: 'Composer mode',
    modeReply: 'Reply',
    modeNote: 'Note',
    notePlaceholder: 'Internal note — never sent to the customer… (Enter to save)',
    addNote: 'Add note',
    presenceChangedBy: (name, presence) => `${name} set your state to ${presence}.`,
    errors: {
      FORBIDDEN: 'You may not supervise this conversation.',
      SESSION_NOT_FOUND: 'This conversation is not in your skill groups.',
      NO_AGENT_ASSIGNED: 'No agent holds this contact now.',
      AGENT_NOT_FOUND: 'That agent is not signed in to your groups.',
      SESSION_CLOSED: 'The conversation is closed.',
      TRANSFER_TARGET_NOT_IN_GROUP: 'That agent does not handle this group.',
      TRANSFER_TO_SELF: 'The contact is already with that agent.',
      TRANSFER_PENDING: 'A transfer of this contact is pending.',
      fallback: 'That did not work.',
    },
  },
  zh: {
    tab: '监看',
    title: '监看',
    intro: '您所在技能组的进行中会话。可只读实时监看、向坐席发送悄悄话、插话、改派会话或修改坐席状态。所有操作均记入审计。',
    refresh: '刷新',
    none: '您的技能组暂无进行中的会话。',
    loading: '加载中…',
    supervise: '监看',
    columns: { customer: '客户', channel: '渠道', group: '技能组', status: '状态', agent: '坐席', waiting: '开始于' },
    statuses: { bot: 'AI 接待中', queued: '排队中', offered: '已分配', active: '进行中', closed: '已关闭' },
    unassigned: '—',
    back: '← 全部会话',
    readOnly: '只读：您正在监看此会话。',
    live: '实时',
    whisper: '对坐席悄悄话',
    whisperPlaceholder: '仅坐席可见…（回车发送）',
    whisperNoAgent: '该会话尚无坐席接待，无法发送悄悄话。您仍可插话。',
    barge: '插话',
    bargeHint: '插话：您的消息将发送给客户',
    bargePlaceholder: '给客户发消息…（回车发送）',
    send: '悄悄话',
    sendToCustomer: '发送给客户',
    reassign: '改派',
    reassignTo: '改派给',
    toQueue: '退回队列',
    reassignDone: '已改派。',
    agents: '坐席',
    noAgents: '您的技能组暂无在线坐席。',
    presences: { available: '空闲', busy: '忙碌', 'after-call-work': '话后处理', away: '离开', offline: '离线' },
    setPresence: (name) => `${name} 的状态`,
    load: (n) => `${n} 个会话`,
    note: '内部备注',
    whisperFrom: (name) => `主管悄悄话 · ${name}`,
    whisperTo: (name) => `给 ${name}`,
    noteBy: (name) => `${name} 添加`,
    composerMode: '输入模式',
    modeReply: '回复',
    modeNote: '备注',
    notePlaceholder: '内部备注——不会发送给客户…（回车保存）',
    addNote: '添加备注',
    presenceChangedBy: (name, presence) => `${name} 已将您的状态设为「${presence}」。`,
    errors: {
      FORBIDDEN: '您无权监看此会话。',
      SESSION_NOT_FOUND: '此会话不在您的技能组内。',
      NO_AGENT_ASSIGNED: '当前没有坐席接待此会话。',
      AGENT_NOT_FOUND: '该坐席未登录或不在您的技能组。',
      SESSION_CLOSED: '会话已关闭。',
      TRANSFER_TARGET_NOT_IN_GROUP: '该坐席不处理此技能组。',
      TRANSFER_TO_SELF: '会话已在该坐席处。',
      TRANSFER_PENDING: '此会话有待处理的转接。',
      fallback: '操作未成功。',
    },
  },
};

export const supervisionStrings = (locale: Locale): SupervisionStrings => SUPERVISION_STRINGS[locale];

/** An error's words for the supervision view: the code's own line, else the fallback. */
export const supervisionError = (locale: Locale, code: string | undefined): string => {
  const errors = SUPERVISION_STRINGS[locale].errors;
  return (code && errors[code]) || errors.fallback;
};
