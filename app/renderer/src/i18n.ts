import type { Emotion } from '../../../common/ai/types';
import type { Presence } from '../../../common/socket/agent-events';

/**
 * The workstation's languages. Most of the UI is still English only; strings that are localized live
 * in `STRINGS` below, one entry per language, and are read with `useLocale()` (context.ts).
 */
export type Locale = 'zh' | 'en';

/** The user's language from the browser's (Electron: the OS's) preferences: the first zh or en one, else en. */
export function detectLocale(languages: readonly string[]): Locale {
  for (const tag of languages) {
    const primary = tag.toLowerCase().split('-')[0];
    if (primary === 'zh' || primary === 'en') return primary;
  }
  return 'en';
}

/** The emotions a badge names; `neutral` shows no badge. */
export type ShownEmotion = Exclude<Emotion, 'neutral'>;

/** The AI assistance strings (issue 10): drafts, suggestions, summaries, AI and system messages. */
export interface AssistStrings {
  draftBanner: string;
  draftFromKb: (intent: string) => string;
  draftFromPast: string;
  discard: string;
  suggestions: string;
  suggestionKb: (intent: string) => string;
  suggestionPast: string;
  insertHint: string;
  noSuggestions: string;
  summaryTitle: string;
  summaryBy: { extractive: string; llm: string };
  aiMark: string;
  aiMarkTitle: string;
  wrapUpNote: string;
  wrapUpNoteLoading: string;
}

/** The transfer strings (issue 11): the dialog, the pending banner, the incoming card, the records. */
export interface TransferStrings {
  button: string;
  title: string;
  targetKind: string;
  kinds: { agent: string; 'skill-group': string; expert: string };
  agent: string;
  noAgents: string;
  skillGroup: string;
  expertOf: (group: string) => string;
  presence: Record<Presence, string>;
  chats: (n: number) => string;
  otherGroups: string;
  mode: string;
  warm: string;
  warmHint: string;
  cold: string;
  coldHint: string;
  note: string;
  notePlaceholder: string;
  send: string;
  cancel: string;
  pending: (to: string) => string;
  secondsLeft: (s: number) => string;
  cancelTransfer: string;
  incoming: string;
  from: (name: string) => string;
  accept: string;
  decline: string;
  declineReason: string;
  summary: string;
  transferredFrom: (name: string, mode: string) => string;
  modeName: { warm: string; cold: string };
  notices: {
    accepted: (to: string) => string;
    declined: (to: string, reason: string | null) => string;
    expired: (to: string) => string;
    cancelled: string;
    routed: (to: string) => string;
  };
  record: (from: string, to: string, mode: string) => string;
  /** A lead's reassign (issue 16): `by` moved the agent `from`'s contact to `to`. */
  reassigned: (by: string, from: string, to: string) => string;
  dismiss: string;
}

export const STRINGS: Record<Locale, { emotions: Record<ShownEmotion, string>; assist: AssistStrings; transfer: TransferStrings }> = {
  en: {
    emotions: { anger: 'anger', disgust: 'disgust', fear: 'fear', happiness: 'happiness', sadness: 'sadness', surprise: 'surprise' },
    assist: {
      draftBanner: 'AI draft — review before sending',
      draftFromKb: (intent) => `from the knowledge base: ${intent}`,
      draftFromPast: 'from a past reply to a similar question',
      discard: 'Discard',
      suggestions: 'Suggested replies',
      suggestionKb: (intent) => `KB: ${intent}`,
      suggestionPast: 'Past reply',
      insertHint: 'Click to insert into the reply (nothing is sent)',
      noSuggestions: 'No suggestions for this message',
      summaryTitle: 'Summary',
      summaryBy: { extractive: 'from the conversation', llm: 'written by the language model' },
      aiMark: 'AI',
      aiMarkTitle: 'Written by the AI',
      wrapUpNote: 'Wrap-up note',
      wrapUpNoteLoading: 'Summarizing…',
    },
    transfer: {
      button: 'Transfer…',
      title: 'Transfer this conversation',
      targetKind: 'Transfer to',
      kinds: { agent: 'A colleague', 'skill-group': 'A skill group', expert: 'The expert tier' },
      agent: 'Colleague',
      noAgents: 'No colleague is signed in.',
      skillGroup: 'Skill group',
      expertOf: (group) => `Experts of ${group}`,
      presence: { available: 'available', busy: 'busy', 'after-call-work': 'wrapping up', away: 'away', offline: 'offline' },
      chats: (n) => `${n} chat${n === 1 ? '' : 's'}`,
      otherGroups: 'Other skill groups',
      mode: 'How',
      warm: 'Warm',
      warmHint: 'you keep the chat until they accept',
      cold: 'Cold',
      coldHint: 'the chat leaves you now and waits for them',
      note: 'Note for the colleague',
      notePlaceholder: 'What they should know (the conversation and an AI summary go with it)',
      send: 'Transfer',
      cancel: 'Cancel',
      pending: (to) => `Waiting for ${to} to accept your transfer`,
      secondsLeft: (s) => `${s} s left`,
      cancelTransfer: 'Cancel transfer',
      incoming: 'Incoming transfer',
      from: (name) => `from ${name}`,
      accept: 'Accept',
      decline: 'Decline',
      declineReason: 'Reason (optional)',
      summary: 'AI summary',
      transferredFrom: (name, mode) => `Transferred from ${name} (${mode})`,
      modeName: { warm: 'warm', cold: 'cold' },
      notices: {
        accepted: (to) => `${to} accepted your transfer; the conversation is theirs now.`,
        declined: (to, reason) => `${to} declined your transfer${reason ? `: ${reason}` : ''}. The conversation stays with you.`,
        expired: (to) => `${to} did not accept in time. The conversation stays with you.`,
        cancelled: 'The transfer was cancelled. The conversation stays with you.',
        routed: (to) => `Transferred to ${to}. The customer was told a colleague will continue.`,
      },
      record: (from, to, mode) => `${from} transferred this conversation to ${to} (${mode})`,
      reassigned: (by, from, to) => `${by} reassigned this conversation from ${from} to ${to}`,
      dismiss: 'Dismiss',
    },
  },
  zh: {
    emotions: { anger: '愤怒', disgust: '厌恶', fear: '恐惧', happiness: '高兴', sadness: '悲伤', surprise: '惊讶' },
    assist: {
      draftBanner: 'AI 草稿——发送前请审核',
      draftFromKb: (intent) => `来自知识库：${intent}`,
      draftFromPast: '来自相似问题的历史回复',
      discard: '丢弃',
      suggestions: '推荐回复',
      suggestionKb: (intent) => `知识库：${intent}`,
      suggestionPast: '历史回复',
      insertHint: '点击插入到回复框（不会自动发送）',
      noSuggestions: '这条消息暂无推荐',
      summaryTitle: '会话摘要',
      summaryBy: { extractive: '摘自对话', llm: '由语言模型撰写' },
      aiMark: 'AI',
      aiMarkTitle: '由 AI 撰写',
      wrapUpNote: '结束备注',
      wrapUpNoteLoading: '正在生成摘要…',
    },
    transfer: {
      button: '转接…',
      title: '转接此会话',
      targetKind: '转接给',
      kinds: { agent: '同事', 'skill-group': '技能组', expert: '专家坐席' },
      agent: '同事',
      noAgents: '目前没有其他同事在线。',
      skillGroup: '技能组',
      expertOf: (group) => `${group} 的专家`,
      presence: { available: '空闲', busy: '忙碌', 'after-call-work': '话后处理', away: '离开', offline: '离线' },
      chats: (n) => `${n} 个会话`,
      otherGroups: '其他技能组',
      mode: '方式',
      warm: '协商转接',
      warmHint: '对方接受前会话仍由您处理',
      cold: '直接转接',
      coldHint: '会话立即离开您，等待对方接入',
      note: '给同事的备注',
      notePlaceholder: '需要对方知道的信息（会话记录和 AI 摘要会一并转交）',
      send: '转接',
      cancel: '取消',
      pending: (to) => `等待 ${to} 接受转接`,
      secondsLeft: (s) => `剩余 ${s} 秒`,
      cancelTransfer: '取消转接',
      incoming: '转接请求',
      from: (name) => `来自 ${name}`,
      accept: '接受',
      decline: '拒绝',
      declineReason: '原因（可选）',
      summary: 'AI 摘要',
      transferredFrom: (name, mode) => `由 ${name} 转接（${mode}）`,
      modeName: { warm: '协商转接', cold: '直接转接' },
      notices: {
        accepted: (to) => `${to} 已接受转接，会话已交给对方。`,
        declined: (to, reason) => `${to} 拒绝了转接${reason ? `：${reason}` : ''}。会话仍由您处理。`,
        expired: (to) => `${to} 未及时接受。会话仍由您处理。`,
        cancelled: '转接已取消。会话仍由您处理。',
        routed: (to) => `已转接给 ${to}。已告知客户将由同事继续服务。`,
      },
      record: (from, to, mode) => `${from} 将此会话转接给 ${to}（${mode}）`,
      reassigned: (by, from, to) => `${by} 将此会话从 ${from} 改派给 ${to}`,
      dismiss: '关闭',
    },
  },
};

/** Masked personal data (issue 17, docs/privacy-masking.md): the button that reveals it, audited. */
export interface PrivacyStrings {
  /** The button's visible text. */
  show: string;
  /** The button's accessible name (says what it does and that it is recorded). */
  showLabel: string;
  /** A title on masked text for users who may not reveal it. */
  maskedTitle: string;
  /** Shown beside the text when the reveal was refused or failed. */
  failed: string;
}

export const PRIVACY_STRINGS: Record<Locale, PrivacyStrings> = {
  en: {
    show: 'Show',
    showLabel: 'Show the hidden personal data (the view is recorded)',
    maskedTitle: 'Personal data is hidden',
    failed: 'Could not show it',
  },
  zh: {
    show: '显示',
    showLabel: '显示隐藏的个人信息（查看将被记录）',
    maskedTitle: '个人信息已隐藏',
    failed: '无法显示',
  },
};

/** The login page's enterprise sign-in strings (issue 17, OIDC). */
export interface LoginStrings {
  /** The button when an OpenID provider is configured; `name` is the provider's configured name. */
  signInWith: (name: string) => string;
  or: string;
  /** Why an enterprise sign-in came back refused, by error code. */
  ssoFailed: string;
  ssoForbidden: string;
}

export const LOGIN_STRINGS: Record<Locale, LoginStrings> = {
  en: {
    signInWith: (name) => `Sign in with ${name}`,
    or: 'or',
    ssoFailed: 'Signing in with your organisation did not complete; start again.',
    ssoForbidden: 'Your organisation account has no role in Huiliu; ask your administrator.',
  },
  zh: {
    signInWith: (name) => `使用 ${name} 登录`,
    or: '或',
    ssoFailed: '企业账号登录未完成，请重新开始。',
    ssoForbidden: '你的企业账号在汇流中没有角色，请联系管理员。',
  },
};

/**
 * Data-subject requests (issue 17, docs/privacy.md): filing an export or erasure from the customer
 * panel, and the privacy officer's queue (approve, reject, download once).
 */
export interface PrivacyRequestStrings {
  /** The top bar's tab. */
  tab: string;
  title: string;
  intro: string;
  refresh: string;
  loading: string;
  none: string;
  columns: {
    kind: string;
    customer: string;
    reason: string;
    requester: string;
    requestedAt: string;
    dueAt: string;
    status: string;
    actions: string;
  };
  kinds: Record<'export' | 'erasure', string>;
  statuses: Record<'pending' | 'approved' | 'rejected' | 'downloaded' | 'expired' | 'executed' | 'failed', string>;
  overdue: string;
  you: string;
  approve: string;
  approveLabel: (kind: string, customer: string) => string;
  reject: string;
  rejectLabel: (kind: string, customer: string) => string;
  rejectNote: string;
  rejectConfirm: string;
  cancel: string;
  ownRequest: string;
  download: string;
  downloadLabel: (customer: string) => string;
  downloadOnce: string;
  downloadedHere: string;
  expiresAt: (at: string) => string;
  decidedBy: (who: string, at: string) => string;
  /** The customer panel. */
  panelTitle: string;
  requestExport: string;
  requestErasure: string;
  reasonLabel: string;
  reasonHint: string;
  erasureWarning: string;
  submit: string;
  sending: string;
  filed: (kind: string, id: string, due: string) => string;
  filedNext: string;
  errors: { reason: string; network: string; fallback: string } & Record<string, string>;
}

export const PRIVACY_REQUEST_STRINGS: Record<Locale, PrivacyRequestStrings> = {
  en: {
    tab: 'Privacy requests',
    title: 'Privacy requests',
    intro:
      'Data export and erasure requests filed by agents. Approve or reject each one filed by someone else (four eyes); approving an erasure destroys the customer’s data at once.',
    refresh: 'Refresh',
    loading: 'Loading…',
    none: 'No requests.',
    columns: {
      kind: 'Kind',
      customer: 'Customer',
      reason: 'Reason',
      requester: 'Requested by',
      requestedAt: 'Requested at',
      dueAt: 'Due',
      status: 'Status',
      actions: 'Actions',
    },
    kinds: { export: 'Data export', erasure: 'Erasure' },
    statuses: {
      pending: 'Pending',
      approved: 'Approved',
      rejected: 'Rejected',
      downloaded: 'Downloaded',
      expired: 'Expired',
      executed: 'Erased',
      failed: 'Failed',
    },
    overdue: 'Overdue',
    you: 'you',
    approve: 'Approve',
    approveLabel: (kind, customer) => `Approve the ${kind.toLowerCase()} for customer ${customer}`,
    reject: 'Reject',
    rejectLabel: (kind, customer) => `Reject the ${kind.toLowerCase()} for customer ${customer}`,
    rejectNote: 'Reason for rejecting',
    rejectConfirm: 'Reject request',
    cancel: 'Cancel',
    ownRequest: 'Filed by you: another privacy officer must decide.',
    download: 'Download',
    downloadLabel: (customer) => `Download the data export of customer ${customer} (once only)`,
    downloadOnce: 'Can be downloaded once only.',
    downloadedHere: 'Downloaded: the file is gone from the server.',
    expiresAt: (at) => `until ${at}`,
    decidedBy: (who, at) => `${who}, ${at}`,
    panelTitle: 'Data subject requests',
    requestExport: 'Request data export',
    requestErasure: 'Request erasure',
    reasonLabel: 'Reason',
    reasonHint: 'e.g. the customer asked by email on …',
    erasureWarning: 'Once a privacy officer approves it, all of this customer’s data is destroyed and cannot be recovered.',
    submit: 'Send request',
    sending: 'Sending…',
    filed: (kind, id, due) => `${kind} request ${id} filed. Due ${due}.`,
    filedNext: 'A privacy officer will approve or reject it.',
    errors: {
      reason: 'Give a reason of 3 to 500 characters.',
      network: 'No answer from the server.',
      fallback: 'The request failed.',
      FORBIDDEN: 'You may not do this.',
      NOT_FOUND: 'No such customer.',
      CUSTOMER_ERASED: 'This customer’s data was already erased.',
      PRIVACY_SELF_APPROVAL: 'You filed this request: someone else must decide it.',
      PRIVACY_REQUEST_NOT_PENDING: 'The request was already decided.',
      PRIVACY_REQUEST_NOT_FOUND: 'No such request.',
      EXPORT_NOT_READY: 'The export is not approved yet.',
      EXPORT_GONE: 'This export is gone: it was already downloaded (once only) or has expired.',
    },
  },
  zh: {
    tab: '隐私请求',
    title: '隐私请求',
    intro: '客服提交的数据导出与删除请求。请审批他人提交的请求（双人复核）；批准删除后，客户数据将立即销毁。',
    refresh: '刷新',
    loading: '加载中…',
    none: '没有请求。',
    columns: {
      kind: '类型',
      customer: '客户',
      reason: '原因',
      requester: '申请人',
      requestedAt: '申请时间',
      dueAt: '截止时间',
      status: '状态',
      actions: '操作',
    },
    kinds: { export: '数据导出', erasure: '数据删除' },
    statuses: {
      pending: '待审批',
      approved: '已批准',
      rejected: '已拒绝',
      downloaded: '已下载',
      expired: '已过期',
      executed: '已删除',
      failed: '失败',
    },
    overdue: '已逾期',
    you: '你',
    approve: '批准',
    approveLabel: (kind, customer) => `批准客户 ${customer} 的${kind}请求`,
    reject: '拒绝',
    rejectLabel: (kind, customer) => `拒绝客户 ${customer} 的${kind}请求`,
    rejectNote: '拒绝原因',
    rejectConfirm: '确认拒绝',
    cancel: '取消',
    ownRequest: '由你提交：须由另一位隐私官审批。',
    download: '下载',
    downloadLabel: (customer) => `下载客户 ${customer} 的数据导出（仅限一次）`,
    downloadOnce: '仅可下载一次。',
    downloadedHere: '已下载：文件已从服务器删除。',
    expiresAt: (at) => `有效期至 ${at}`,
    decidedBy: (who, at) => `${who}，${at}`,
    panelTitle: '数据主体请求',
    requestExport: '申请导出数据',
    requestErasure: '申请删除数据',
    reasonLabel: '原因',
    reasonHint: '例如：客户于……通过邮件提出',
    erasureWarning: '隐私官批准后，该客户的全部数据将被销毁，无法恢复。',
    submit: '提交申请',
    sending: '提交中…',
    filed: (kind, id, due) => `${kind}请求 ${id} 已提交，截止 ${due}。`,
    filedNext: '隐私官将批准或拒绝该请求。',
    errors: {
      reason: '请填写 3 至 500 个字符的原因。',
      network: '服务器无响应。',
      fallback: '请求失败。',
      FORBIDDEN: '你无权执行此操作。',
      NOT_FOUND: '没有该客户。',
      CUSTOMER_ERASED: '该客户的数据已被删除。',
      PRIVACY_SELF_APPROVAL: '此请求由你提交，须由他人审批。',
      PRIVACY_REQUEST_NOT_PENDING: '该请求已被处理。',
      PRIVACY_REQUEST_NOT_FOUND: '没有该请求。',
      EXPORT_NOT_READY: '导出尚未批准。',
      EXPORT_GONE: '该导出已不存在：已下载过（仅限一次）或已过期。',
    },
  },
};
