import type { Messages } from './messages';

/**
 * Filing a data-subject request from the customer panel (issue 17, docs/privacy.md): export or
 * erasure, with a reason; `errors` by the server's error code (`fallback` for any other).
 */
export const en = {
  panelTitle: 'Data subject requests',
  requestExport: 'Request data export',
  requestErasure: 'Request erasure',
  reasonLabel: 'Reason',
  reasonHint: 'e.g. the customer asked by email on …',
  erasureWarning: 'Once a privacy officer approves it, all of this customer’s data is destroyed and cannot be recovered.',
  submit: 'Send request',
  sending: 'Sending…',
  cancel: 'Cancel',
  kinds: { export: 'Data export', erasure: 'Erasure' },
  filed: '{{kind}} request {{id}} filed. Due {{due}}.',
  filedNext: 'A privacy officer will approve or reject it.',
  errors: {
    reason: 'Give a reason of 3 to 500 characters.',
    network: 'No answer from the server.',
    fallback: 'The request failed.',
    FORBIDDEN: 'You may not do this.',
    NOT_FOUND: 'No such customer.',
    CUSTOMER_ERASED: 'This customer’s data was already erased.',
    VALIDATION_FAILED: 'The request is not valid.',
  },
} as const;

export const zh: Messages<typeof en> = {
  panelTitle: '数据主体请求',
  requestExport: '申请导出数据',
  requestErasure: '申请删除数据',
  reasonLabel: '原因',
  reasonHint: '例如：客户于……通过邮件提出',
  erasureWarning: '隐私官批准后，该客户的全部数据将被销毁，无法恢复。',
  submit: '提交申请',
  sending: '提交中…',
  cancel: '取消',
  kinds: { export: '数据导出', erasure: '数据删除' },
  filed: '{{kind}}请求 {{id}} 已提交，截止 {{due}}。',
  filedNext: '隐私官将批准或拒绝该请求。',
  errors: {
    reason: '请填写 3 至 500 个字符的原因。',
    network: '服务器无响应。',
    fallback: '请求失败。',
    FORBIDDEN: '你无权执行此操作。',
    NOT_FOUND: '没有该客户。',
    CUSTOMER_ERASED: '该客户的数据已被删除。',
    VALIDATION_FAILED: '请求无效。',
  },
};
