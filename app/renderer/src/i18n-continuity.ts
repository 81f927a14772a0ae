import type { IdentityLinkKind } from '../../../common/message/envelope';
import type { ChannelCode } from '../../../common/message/session-id';
import { HuiliuError } from '../../../common/errors/codes';
import type { Locale } from './i18n';

/**
 * The strings of one person across channels (issue 12, DESIGN §3) in every workstation language:
 * channel badges and the switch divider in the conversation, the customer panel's channels and
 * identities, merge / undo / verified links, and the full history. Read with `continuityStrings(useLocale())`.
 */
export interface ContinuityStrings {
  /** A channel's short name for a badge. */
  channels: Record<ChannelCode, string>;
  badgeTitle: (channel: string) => string;
  /** Between two messages on different channels. */
  switched: (to: ChannelCode, from: ChannelCode) => string;
  /** The open chat followed the customer to another channel. */
  followed: (to: ChannelCode, from: ChannelCode) => string;
  panel: {
    title: string;
    channels: string;
    links: string;
    noLinks: string;
    linkKinds: Record<IdentityLinkKind, string>;
    /** Where a link came from: a channel that vouched for it, or an agent. */
    sourceChannel: (channel: string) => string;
    sourceAgent: string;
    sourceSelf: string;
    /** Typed by the customer into the web widget's pre-chat form (issue 13): recorded, not verified. */
    sourcePreChat: string;
    members: (names: string) => string;
    /** The words for a customer no channel named (the store's placeholder names), by placeholder. */
    unnamed: Record<string, string>;
    merges: string;
    mergedBy: (who: string, when: string) => string;
    undoneBy: (who: string, when: string) => string;
    /** Who did it: the server on a shared verified id, the viewer, another staff member. */
    bySystem: string;
    byYou: string;
    byColleague: string;
    /** Why two customers were merged: by an agent, or a verified id they shared (`link:<kind>`). */
    reasons: { agent: string; link: Record<IdentityLinkKind, string> };
    undo: string;
    undone: string;
    loading: string;
    retry: string;
  };
  merge: {
    open: string;
    title: string;
    by: string;
    byChannel: string;
    channel: string;
    value: string;
    externalId: string;
    find: string;
    finding: string;
    found: string;
    confirm: (other: string, self: string) => string;
    merge: string;
    cancel: string;
    merged: string;
    sameAlready: string;
  };
  link: {
    open: string;
    kind: string;
    value: string;
    add: string;
    added: string;
    conflict: string;
    conflictHidden: string;
    mergeWithHolder: string;
    cancel: string;
  };
  history: {
    title: string;
    loadOlder: string;
    loading: string;
    empty: string;
    inSession: (id: string) => string;
  };
  errors: {
    notFound: string;
    sameCustomer: string;
    alreadyUndone: string;
    linkConflict: string;
    invalid: string;
    forbidden: string;
    network: string;
    other: string;
  };
}

const EN_CHANNELS: Record<ChannelCode, string> = { WX: 'WeChat', AP: 'App', WB: 'Web', XM: 'XMPP', SP: 'Voice' };
/** A channel after "on" / "to" in a sentence. */
const EN_ON: Record<ChannelCode, string> = { WX: 'WeChat', AP: 'the App', WB: 'the web chat', XM: 'XMPP', SP: 'a call' };

const EN: ContinuityStrings = {
  channels: EN_CHANNELS,
  badgeTitle: (channel) => `Channel: ${channel}`,
  switched: (to, from) => `Customer continued on ${EN_ON[to]} — from ${EN_CHANNELS[from]}`,
  followed: (to, from) => `The customer went on from ${EN_CHANNELS[from]} to ${EN_ON[to]}; this chat followed them.`,
  panel: {
    title: 'Channels & identities',
    channels: 'Channels',
    // Not "Verified": a pre-chat form's contact details are listed too, each line saying where it came from.
    links: 'Phone, e-mail, WeChat id',
    noLinks: 'No phone, e-mail or WeChat id linked.',
    linkKinds: { phone: 'Phone', email: 'E-mail', 'wechat-unionid': 'WeChat unionid' },
    sourceChannel: (channel) => `from ${channel}`,
    sourceAgent: 'by an agent',
    sourceSelf: 'by you',
    sourcePreChat: 'typed in the web chat form, not verified',
    members: (names) => `One person: ${names}`,
    unnamed: { 'Web visitor': 'Web visitor', 'WeChat user': 'WeChat user', 'XMPP user': 'XMPP user', 'App user': 'App user' },
    merges: 'Merges',
    mergedBy: (who, when) => `merged ${who} · ${when}`,
    undoneBy: (who, when) => `undone ${who} · ${when}`,
    bySystem: 'automatically',
    byYou: 'by you',
    byColleague: 'by a colleague',
    reasons: { agent: 'by hand', link: { phone: 'same phone number', email: 'same e-mail', 'wechat-unionid': 'same WeChat unionid' } },
    undo: 'Undo merge',
    undone: 'Merge undone.',
    loading: 'Loading…',
    retry: 'Retry',
  },
  merge: {
    open: 'Merge with another customer…',
    title: 'Merge with another customer',
    by: 'Find by',
    byChannel: 'Channel and id',
    channel: 'Channel',
    value: 'Value',
    externalId: 'Id on that channel',
    find: 'Find',
    finding: 'Looking…',
    found: 'Found',
    confirm: (other, self) => `Merge ${other} into ${self}? Both histories become one; you can undo it.`,
    merge: 'Merge',
    cancel: 'Cancel',
    merged: 'Customers merged.',
    sameAlready: 'This is already the same person.',
  },
  link: {
    open: 'Add verified phone or e-mail…',
    kind: 'Kind',
    value: 'Phone number or e-mail address',
    add: 'Add',
    added: 'Added.',
    conflict: 'Another customer already has this.',
    conflictHidden: 'Another customer, outside your skill groups, already has this.',
    mergeWithHolder: 'Merge with the customer who has it',
    cancel: 'Cancel',
  },
  history: {
    title: 'Full history',
    loadOlder: 'Load older',
    loading: 'Loading…',
    empty: 'No messages yet.',
    inSession: (id) => `session ${id}`,
  },
  errors: {
    notFound: 'No customer found with that, in your skill groups.',
    sameCustomer: 'These two are already one customer.',
    alreadyUndone: 'This merge was already undone.',
    linkConflict: 'Another customer already has this.',
    invalid: 'That does not look right; check the value.',
    forbidden: 'Your role may not do this.',
    network: 'The server did not answer; try again.',
    other: 'That did not work; try again.',
  },
};

const ZH_CHANNELS: Record<ChannelCode, string> = { WX: '微信', AP: 'App', WB: '网页', XM: 'XMPP', SP: '语音' };
/** A channel inside a Chinese sentence: Latin names get a space either side, Chinese ones none. */
const zh = (c: ChannelCode) => (/^[A-Za-z]/.test(ZH_CHANNELS[c]) ? ` ${ZH_CHANNELS[c]} ` : ZH_CHANNELS[c]);

const ZH: ContinuityStrings = {
  channels: ZH_CHANNELS,
  badgeTitle: (channel) => `渠道：${channel}`,
  switched: (to, from) => `客户转到${zh(to)}继续沟通（此前在${zh(from)}）`,
  followed: (to, from) => `客户已从${zh(from)}转到${zh(to)}，此会话已随客户切换。`,
  panel: {
    title: '渠道与身份',
    channels: '渠道',
    links: '手机号、邮箱、微信 ID',
    noLinks: '没有关联的手机号、邮箱或微信 UnionID。',
    linkKinds: { phone: '手机号', email: '邮箱', 'wechat-unionid': '微信 UnionID' },
    sourceChannel: (channel) => `来自${channel}`,
    sourceAgent: '坐席验证',
    sourceSelf: '由你验证',
    sourcePreChat: '客户在网页咨询表单中填写，未验证',
    members: (names) => `同一人：${names}`,
    unnamed: { 'Web visitor': '网页访客', 'WeChat user': '微信用户', 'XMPP user': 'XMPP 用户', 'App user': 'App 用户' },
    merges: '合并记录',
    mergedBy: (who, when) => `${who}合并 · ${when}`,
    undoneBy: (who, when) => `${who}撤销 · ${when}`,
    bySystem: '系统自动',
    byYou: '由你',
    byColleague: '由同事',
    reasons: { agent: '手动', link: { phone: '相同手机号', email: '相同邮箱', 'wechat-unionid': '相同微信 UnionID' } },
    undo: '撤销合并',
    undone: '已撤销合并。',
    loading: '加载中…',
    retry: '重试',
  },
  merge: {
    open: '与其他客户合并…',
    title: '与其他客户合并',
    by: '查找方式',
    byChannel: '渠道和账号',
    channel: '渠道',
    value: '值',
    externalId: '该渠道上的账号',
    find: '查找',
    finding: '查找中…',
    found: '找到',
    confirm: (other, self) => `将 ${other} 合并到 ${self}？两边的历史会合为一处，可以撤销。`,
    merge: '合并',
    cancel: '取消',
    merged: '已合并客户。',
    sameAlready: '这已经是同一个人。',
  },
  link: {
    open: '添加已验证的手机号或邮箱…',
    kind: '类型',
    value: '手机号或邮箱地址',
    add: '添加',
    added: '已添加。',
    conflict: '另一位客户已有此信息。',
    conflictHidden: '你所在技能组以外的另一位客户已有此信息。',
    mergeWithHolder: '与持有此信息的客户合并',
    cancel: '取消',
  },
  history: {
    title: '完整历史',
    loadOlder: '加载更早的消息',
    loading: '加载中…',
    empty: '暂无消息。',
    inSession: (id) => `会话 ${id}`,
  },
  errors: {
    notFound: '在你的技能组中没有找到这位客户。',
    sameCustomer: '这两位已经是同一位客户。',
    alreadyUndone: '此合并已被撤销。',
    linkConflict: '另一位客户已有此信息。',
    invalid: '格式不正确，请检查输入。',
    forbidden: '你的角色无权执行此操作。',
    network: '服务器没有响应，请重试。',
    other: '操作未成功，请重试。',
  },
};

export const continuityStrings = (locale: Locale): ContinuityStrings => (locale === 'zh' ? ZH : EN);

/** An error of the customer routes in the agent's words (by its code; never the raw body). */
export function continuityError(t: ContinuityStrings, error: unknown): string {
  if (!(error instanceof HuiliuError)) return t.errors.other;
  if ((error.details as { network?: boolean } | undefined)?.network === true) return t.errors.network;
  switch (error.code) {
    case 'NOT_FOUND':
      return t.errors.notFound;
    case 'MERGE_SAME_CUSTOMER':
      return t.errors.sameCustomer;
    case 'MERGE_ALREADY_UNDONE':
      return t.errors.alreadyUndone;
    case 'LINK_CONFLICT':
      return t.errors.linkConflict;
    case 'VALIDATION_FAILED':
      return t.errors.invalid;
    case 'FORBIDDEN':
      return t.errors.forbidden;
    default:
      return t.errors.other;
  }
}
