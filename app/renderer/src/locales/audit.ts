import type { Messages } from './messages';

/**
 * The auditor’s view (issue 17: search the audit log by user and time range). i18next syntax: `{{name}}` interpolates,
 * `_one`/`_other` are plural forms chosen by `count`.
 */
export const en = {
  tab: 'Audit',
  title: 'Audit log',
  intro: 'Every staff and AI action, hash-chained. Search one person by user ID or username over a time range (your local time).',
  user: 'User',
  userHint: 'ID or username; empty: everyone',
  from: 'From',
  to: 'To',
  search: 'Search',
  searching: 'Searching…',
  more: 'Next page',
  none: 'No entries in this range.',
  shown_one: '{{count}} entry shown, newest first',
  shown_other: '{{count}} entries shown, newest first',
  end: 'End of the results.',
  columns: {
    time: 'Time',
    actor: 'Actor',
    action: 'Action',
    target: 'Target',
    outcome: 'Outcome',
    detail: 'Detail',
  },
  outcomes: {
    ok: 'OK',
    denied: 'Denied',
    failed: 'Failed',
  },
  actors: {
    ai: 'AI',
    system: 'System ({{id}})',
  },
  targets: {
    session: 'Conversation',
    customer: 'Customer',
    attachment: 'Attachment',
    keys: 'Key',
    resource: 'Resource',
  },
  errors: {
    VALIDATION_FAILED: 'The search was not accepted: check the user and the dates.',
    FORBIDDEN: 'Only auditors may read the audit log.',
    range: '“From” must be before “To”.',
    network: 'No answer from the server.',
    fallback: 'The search failed.',
  },
} as const;

export const zh: Messages<typeof en> = {
  tab: '审计',
  title: '审计日志',
  intro: '所有员工与 AI 操作，哈希链防篡改。按用户 ID 或用户名及时间范围（本地时间）查询。',
  user: '用户',
  userHint: 'ID 或用户名；留空为全部',
  from: '开始',
  to: '结束',
  search: '查询',
  searching: '查询中…',
  more: '下一页',
  none: '此时间范围内没有记录。',
  shown_one: '已显示 {{count}} 条，最新在前',
  shown_other: '已显示 {{count}} 条，最新在前',
  end: '已到结果末尾。',
  columns: {
    time: '时间',
    actor: '操作者',
    action: '操作',
    target: '对象',
    outcome: '结果',
    detail: '详情',
  },
  outcomes: {
    ok: '成功',
    denied: '拒绝',
    failed: '失败',
  },
  actors: {
    ai: 'AI',
    system: '系统（{{id}}）',
  },
  targets: {
    session: '会话',
    customer: '客户',
    attachment: '附件',
    keys: '密钥',
    resource: '资源',
  },
  errors: {
    VALIDATION_FAILED: '查询未被接受：请检查用户和日期。',
    FORBIDDEN: '只有审计员可以查看审计日志。',
    range: '“开始”必须早于“结束”。',
    network: '服务器无响应。',
    fallback: '查询失败。',
  },
};
