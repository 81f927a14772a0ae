import type { Emotion } from '../../../common/ai/types';

/**
 * The workstation's languages (issue 15). The UI's strings live in i18next namespaces under
 * `locales/` (docs/i18n.md); this module keeps the language type, the OS-language detection and the
 * privacy page's dictionary until that page moves to a namespace too.
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
