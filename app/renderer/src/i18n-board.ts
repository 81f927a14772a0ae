import type { BoardTrouble } from '../../../common/api/board';
import type { ChannelCode } from '../../../common/message/session-id';
import type { Tier } from '../../../common/routing/types';
import type { Presence } from '../../../common/socket/agent-events';
import type { Locale } from './i18n';

/** The strings of the lead's live board (issue 16, docs/lead-board.md), zh and en. */
export interface BoardStrings {
  tab: string;
  title: string;
  intro: string;
  loading: string;
  live: string;
  reconnecting: string;
  noGroups: string;
  group: (id: string) => string;
  waiting: string;
  longestWait: string;
  nobodyWaits: string;
  withAi: string;
  withAgents: string;
  slRecent: string;
  slToday: string;
  slTarget: (pct: string) => string;
  abandonment: string;
  none: string;
  agentsTitle: string;
  contactsTitle: string;
  noContacts: string;
  noAgents: string;
  more: (shown: number, total: number) => string;
  columns: {
    customer: string;
    group: string;
    channel: string;
    tier: string;
    status: string;
    wait: string;
    sla: string;
    agent: string;
    trouble: string;
    actions: string;
    name: string;
    state: string;
    load: string;
  };
  /** A running SLA clock's countdown (`left`, m:ss) or how long past due (`over`); `kind` first or next response. */
  sla: {
    first: string;
    next: string;
    left: (time: string) => string;
    over: (time: string) => string;
    paused: string;
    title: (due: string) => string;
  };
  supervise: string;
  unassigned: string;
  tiers: Record<Tier | 'unrouted', string>;
  channels: Record<ChannelCode, string>;
  statuses: Record<'bot' | 'queued' | 'offered' | 'active', string>;
  presences: Record<Presence, string>;
  trouble: Record<BoardTrouble, string>;
  errors: { FORBIDDEN: string; fallback: string } & Record<string, string>;
}

const BOARD_STRINGS: Record<Locale, BoardStrings> = {
  en: {
    tab: 'Board',
    title: 'Live board',
    intro: 'Your skill groups as they are now, pushed by the server. Waits count up live; rows in trouble are highlighted.',
    loading: 'Loading the board…',
    live: 'Live',
    reconnecting: 'Reconnecting…',
    noGroups: 'You watch no skill group.',
    group: (id) => `Group ${id}`,
    waiting: 'Waiting',
    longestWait: 'Longest wait',
    nobodyWaits: 'nobody waits',
    withAi: 'With the AI',
    withAgents: 'With agents',
    slRecent: 'Service level, 15 min',
    slToday: 'Service level, today',
    slTarget: (pct) => `goal ${pct}`,
    abandonment: 'Abandoned today',
    none: '—',
    agentsTitle: 'Agents',
    contactsTitle: 'Contacts',
    noContacts: 'No open contacts.',
    noAgents: 'No agent signed in.',
    more: (shown, total) => `Showing ${shown} of ${total}.`,
    columns: {
      customer: 'Customer',
      group: 'Group',
      channel: 'Channel',
      tier: 'Tier',
      status: 'Status',
      wait: 'Waiting',
      sla: 'SLA due',
      agent: 'Agent',
      trouble: 'Attention',
      actions: 'Actions',
      name: 'Name',
      state: 'State',
      load: 'Load',
    },
    sla: {
      first: 'First response',
      next: 'Next response',
      left: (time) => `${time} left`,
      over: (time) => `${time} overdue`,
      paused: 'no business time ahead',
      title: (due) => `Due ${due}`,
    },
    supervise: 'Supervise',
    unassigned: '—',
    tiers: { expert: 'Expert', assisted: 'Assisted', ai: 'AI', unrouted: 'Not routed' },
    channels: { WB: 'Web', AP: 'App', WX: 'WeChat', XM: 'XMPP', SP: 'Voice' },
    statuses: { bot: 'With AI', queued: 'Queued', offered: 'Offered', active: 'With agent' },
    presences: { available: 'Available', busy: 'Busy', 'after-call-work': 'Wrap-up', away: 'Away', offline: 'Offline' },
    trouble: {
      'sla-risk': 'About to breach the SLA',
      'sla-breached': 'SLA breached',
      'customer-waiting': 'Customer waiting for an answer',
      'negative-emotion': 'Negative emotion',
    },
    errors: { FORBIDDEN: 'Only team leads and admins can open the live board.', fallback: 'The board could not be loaded.' },
  },
  zh: {
    tab: '看板',
    title: '实时看板',
    intro: '您所负责技能组的实时情况，由服务器推送。等待时间实时累加；需要关注的行会高亮显示。',
    loading: '正在加载看板…',
    live: '实时',
    reconnecting: '正在重新连接…',
    noGroups: '您没有负责的技能组。',
    group: (id) => `技能组 ${id}`,
    waiting: '排队中',
    longestWait: '最长等待',
    nobodyWaits: '无人等待',
    withAi: 'AI 接待中',
    withAgents: '坐席接待中',
    slRecent: '服务水平（15 分钟）',
    slToday: '服务水平（今日）',
    slTarget: (pct) => `目标 ${pct}`,
    abandonment: '今日放弃率',
    none: '—',
    agentsTitle: '坐席',
    contactsTitle: '会话',
    noContacts: '没有进行中的会话。',
    noAgents: '没有已登录的坐席。',
    more: (shown, total) => `显示 ${total} 个中的 ${shown} 个。`,
    columns: {
      customer: '客户',
      group: '技能组',
      channel: '渠道',
      tier: '层级',
      status: '状态',
      wait: '等待',
      sla: 'SLA 到期',
      agent: '坐席',
      trouble: '需关注',
      actions: '操作',
      name: '姓名',
      state: '状态',
      load: '负载',
    },
    sla: {
      first: '首次响应',
      next: '后续响应',
      left: (time) => `剩余 ${time}`,
      over: (time) => `已超时 ${time}`,
      paused: '无后续工作时间',
      title: (due) => `到期时间 ${due}`,
    },
    supervise: '监看',
    unassigned: '—',
    tiers: { expert: '专家', assisted: '辅助', ai: 'AI', unrouted: '未分配' },
    channels: { WB: '网页', AP: 'App', WX: '微信', XM: 'XMPP', SP: '语音' },
    statuses: { bot: 'AI 接待', queued: '排队', offered: '已分配', active: '坐席接待' },
    presences: { available: '空闲', busy: '忙碌', 'after-call-work': '话后处理', away: '离开', offline: '离线' },
    trouble: {
      'sla-risk': '即将违反 SLA',
      'sla-breached': '已违反 SLA',
      'customer-waiting': '客户等待回复',
      'negative-emotion': '负面情绪',
    },
    errors: { FORBIDDEN: '只有组长和管理员可以打开实时看板。', fallback: '无法加载看板。' },
  },
};

export const boardStrings = (locale: Locale): BoardStrings => BOARD_STRINGS[locale];

/** A wait as the board shows it: m:ss, or h:mm:ss from an hour on; never negative. */
export function formatWait(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const ss = String(s).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}
