import type { Locale } from './i18n';

/** The strings of the Apps admin view (issue 13: app accounts, keys, webhook dead letters), zh and en. */
export interface AppsStrings {
  tab: string;
  title: string;
  intro: string;
  loading: string;
  refresh: string;
  create: {
    title: string;
    appId: string;
    appIdHint: string;
    name: string;
    skillGroup: string;
    skillGroupNone: string;
    webhookUrl: string;
    webhookUrlHint: string;
    submit: string;
    created: (name: string) => string;
  };
  secret: {
    keyTitle: (app: string) => string;
    webhookTitle: (app: string) => string;
    once: string;
    copy: string;
    copied: string;
    copyFailed: string;
    done: string;
  };
  list: {
    none: string;
    source: { config: string; admin: string };
    configNote: string;
    skillGroup: string;
    webhook: string;
    noWebhook: string;
    deadLetters: (n: number) => string;
    keys: string;
    noKeys: string;
    key: string;
    created: string;
    lastUsed: string;
    never: string;
    state: string;
    active: string;
    revokedAt: (at: string) => string;
    issueKey: string;
    keyLabel: string;
    revoke: string;
    confirmRevoke: (hint: string) => string;
    confirmRevokeButton: string;
    cancel: string;
    rotate: string;
    confirmRotate: string;
    confirmRotateButton: string;
    editWebhook: string;
    save: string;
  };
  dead: {
    title: string;
    none: string;
    app: string;
    message: string;
    reason: string;
    reasons: { exhausted: string; refused: string };
    attempts: string;
    lastError: string;
    when: string;
    redeliver: string;
    queued: string;
  };
  errors: Record<string, string> & { network: string; fallback: string };
}

const en: AppsStrings = {
  tab: 'Apps',
  title: 'App channel: apps and keys',
  intro:
    'Apps call POST /api/v1/channels/app/messages with X-Huiliu-Key. Keys and webhook secrets are shown once, when they are made; only their last 4 characters are kept for display.',
  loading: 'Loading…',
  refresh: 'Refresh',
  create: {
    title: 'New app',
    appId: 'App id',
    appIdHint: 'letters, digits, . _ - (scopes the app’s user ids; cannot change)',
    name: 'Name',
    skillGroup: 'Skill group',
    skillGroupNone: 'Channel default',
    webhookUrl: 'Webhook URL (optional)',
    webhookUrlHint: 'https:// — replies are POSTed there, signed',
    submit: 'Create app',
    created: (name) => `App “${name}” created.`,
  },
  secret: {
    keyTitle: (app) => `New key for ${app}`,
    webhookTitle: (app) => `Webhook signing secret for ${app}`,
    once: 'Copy it now: you will not see it again. Only its last 4 characters are kept.',
    copy: 'Copy',
    copied: 'Copied',
    copyFailed: 'Copy failed: select the text and copy it by hand',
    done: 'I have stored it',
  },
  list: {
    none: 'No app yet.',
    source: { config: 'from config', admin: 'managed here' },
    configNote: 'Defined in HUILIU_CONFIG: change it there (read only here).',
    skillGroup: 'Skill group',
    webhook: 'Webhook',
    noWebhook: 'none (the app polls)',
    deadLetters: (n) => (n === 1 ? '1 dead letter' : `${n} dead letters`),
    keys: 'Keys',
    noKeys: 'No key yet: issue one for the app.',
    key: 'Key',
    created: 'Created',
    lastUsed: 'Last used',
    never: 'never',
    state: 'State',
    active: 'active',
    revokedAt: (at) => `revoked ${at}`,
    issueKey: 'Issue key',
    keyLabel: 'Key label (optional)',
    revoke: 'Revoke',
    confirmRevoke: (hint) => `Revoke key …${hint}? Requests with it are refused at once, on every node.`,
    confirmRevokeButton: 'Yes, revoke',
    cancel: 'Cancel',
    rotate: 'Rotate webhook secret',
    confirmRotate: 'Make a new signing secret? Deliveries are signed with it at once: the app must verify with the new one.',
    confirmRotateButton: 'Yes, rotate',
    editWebhook: 'Change webhook',
    save: 'Save',
  },
  dead: {
    title: 'Webhook dead letters',
    none: 'No dead letter: every delivery went through or is still being tried.',
    app: 'App',
    message: 'Message',
    reason: 'Reason',
    reasons: { exhausted: 'tries used up', refused: 'refused by the app' },
    attempts: 'Tries',
    lastError: 'Last error',
    when: 'When',
    redeliver: 'Redeliver',
    queued: 'Queued again',
  },
  errors: {
    network: 'No answer from the server.',
    fallback: 'That did not work.',
    APP_ACCOUNT_EXISTS: 'An app with this id already exists.',
    APP_ACCOUNT_FROM_CONFIG: 'This app is defined in HUILIU_CONFIG; change it there.',
    APP_ACCOUNT_NOT_FOUND: 'No such app.',
    APP_KEY_NOT_FOUND: 'No such key.',
    VALIDATION_FAILED: 'Check the fields:',
    FORBIDDEN: 'Only admins manage apps.',
    NOT_FOUND: 'It is no longer a dead letter (already redelivered?).',
  },
};

const zh: AppsStrings = {
  tab: '应用接入',
  title: 'App 渠道：应用与密钥',
  intro:
    '应用通过 X-Huiliu-Key 调用 POST /api/v1/channels/app/messages。密钥和 Webhook 签名密钥只在生成时显示一次，之后只保留末 4 位用于辨认。',
  loading: '加载中…',
  refresh: '刷新',
  create: {
    title: '新建应用',
    appId: '应用 ID',
    appIdHint: '字母、数字、. _ -（用于区分该应用的用户 ID，创建后不可修改）',
    name: '名称',
    skillGroup: '技能组',
    skillGroupNone: '渠道默认',
    webhookUrl: 'Webhook 地址（可选）',
    webhookUrlHint: 'https:// —— 回复将签名后 POST 到此地址',
    submit: '创建应用',
    created: (name) => `已创建应用“${name}”。`,
  },
  secret: {
    keyTitle: (app) => `${app} 的新密钥`,
    webhookTitle: (app) => `${app} 的 Webhook 签名密钥`,
    once: '请立即复制：关闭后将无法再次查看，系统只保留末 4 位。',
    copy: '复制',
    copied: '已复制',
    copyFailed: '复制失败：请手动选中文本复制',
    done: '我已妥善保存',
  },
  list: {
    none: '还没有应用。',
    source: { config: '来自配置', admin: '在此管理' },
    configNote: '在 HUILIU_CONFIG 中定义：请在配置中修改（此处只读）。',
    skillGroup: '技能组',
    webhook: 'Webhook',
    noWebhook: '无（应用轮询）',
    deadLetters: (n) => `${n} 条死信`,
    keys: '密钥',
    noKeys: '还没有密钥：请为应用签发一个。',
    key: '密钥',
    created: '创建时间',
    lastUsed: '最近使用',
    never: '从未',
    state: '状态',
    active: '有效',
    revokedAt: (at) => `已于 ${at} 吊销`,
    issueKey: '签发密钥',
    keyLabel: '密钥备注（可选）',
    revoke: '吊销',
    confirmRevoke: (hint) => `确定吊销密钥 …${hint}？使用它的请求将立即在所有节点被拒绝。`,
    confirmRevokeButton: '确定吊销',
    cancel: '取消',
    rotate: '轮换 Webhook 密钥',
    confirmRotate: '生成新的签名密钥？之后的投递立即使用新密钥签名，应用须用新密钥验签。',
    confirmRotateButton: '确定轮换',
    editWebhook: '修改 Webhook',
    save: '保存',
  },
  dead: {
    title: 'Webhook 死信',
    none: '没有死信：所有投递均已成功或仍在重试。',
    app: '应用',
    message: '消息',
    reason: '原因',
    reasons: { exhausted: '重试次数用尽', refused: '被应用拒绝' },
    attempts: '尝试次数',
    lastError: '最后错误',
    when: '时间',
    redeliver: '重新投递',
    queued: '已重新排队',
  },
  errors: {
    network: '服务器无响应。',
    fallback: '操作未成功。',
    APP_ACCOUNT_EXISTS: '已存在相同 ID 的应用。',
    APP_ACCOUNT_FROM_CONFIG: '该应用在 HUILIU_CONFIG 中定义，请在配置中修改。',
    APP_ACCOUNT_NOT_FOUND: '没有这个应用。',
    APP_KEY_NOT_FOUND: '没有这个密钥。',
    VALIDATION_FAILED: '请检查以下字段：',
    FORBIDDEN: '只有管理员可以管理应用。',
    NOT_FOUND: '它已不是死信（可能已重新投递）。',
  },
};

export const APPS_STRINGS: Record<Locale, AppsStrings> = { en, zh };
export const appsStrings = (locale: Locale): AppsStrings => APPS_STRINGS[locale];
