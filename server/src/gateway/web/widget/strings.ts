import type { QueueStanding } from '../../../../../common/ai/assist';

/**
 * Every word the widget shows, in Chinese and English (issue 13). The page picks one by the loader's
 * `lang` override (`?lang=zh|en`) or else `navigator.language` (any `zh*` is Chinese), and sets
 * `<html lang>` to `zh-CN` or `en` so screen readers speak it in the right voice.
 */
export type Lang = 'en' | 'zh';

export interface Strings {
  htmlLang: string;
  chatRegion: string;
  messagesLabel: string;
  subtitle: string;
  online: string;
  connecting: string;
  reconnecting: string;
  talkToPerson: string;
  aiLabel: string;
  withAi: string;
  standing(s: QueueStanding): string;
  thanksWaiting: string;
  agentHelping(name: string | undefined): string;
  agentJoined(name: string | undefined): string;
  closedLine: string;
  closedHeader: string;
  sending: string;
  notSent(reason: string): string;
  yourMessage: string;
  placeholder: string;
  send: string;
  closeChat: string;
  // Typing and receipts
  agentTyping: string;
  read: string;
  sent: string;
  // Upload
  attach: string;
  uploading(percent: number): string;
  uploadWaiting: string;
  uploadTooLarge(name: string, max: string): string;
  uploadTypeRefused(name: string): string;
  uploadFailed(name: string): string;
  uploadsOff: string;
  dropHere: string;
  download(name: string, size: string): string;
  // Pre-chat form
  preChatTitle: string;
  preChatIntro: string;
  name: string;
  contact: string;
  contactHint: string;
  topic: string;
  optional: string;
  start: string;
  saving: string;
  needName: string;
  needContact: string;
  badContact: string;
  needTopic: string;
  unknownTopic: string;
  preChatFailed: string;
  // CSAT (issue 11)
  csatTitle: string;
  csatScores: readonly string[];
  csatStar(n: number): string;
  csatComment: string;
  csatLater: string;
  csatSend: string;
  csatThanks: string;
  csatFailed: string;
}

const mins = (wait: number) => Math.max(1, Math.ceil(wait / 60));

const en: Strings = {
  htmlLang: 'en',
  chatRegion: 'Chat with support',
  messagesLabel: 'Conversation',
  subtitle: 'We usually answer within a few minutes.',
  online: 'Online',
  connecting: 'Connecting…',
  reconnecting: 'Reconnecting…',
  talkToPerson: 'Talk to a person',
  aiLabel: 'AI assistant',
  withAi: 'An AI assistant is answering. You can ask for a person at any time.',
  standing(s) {
    if (s.noAgentOnline) return 'No agent is online right now: leave a message and an agent will see it first.';
    const wait = s.estimatedWaitSeconds;
    return `Waiting for a person: number ${s.position} in the queue${wait === null ? '' : wait < 60 ? ', shortly' : `, about ${mins(wait)} min`}`;
  },
  thanksWaiting: 'Thanks! An agent will be with you shortly.',
  agentHelping: (name) => `${name ?? 'An agent'} is helping you`,
  agentJoined: (name) => `${name ?? 'An agent'} joined the chat`,
  closedLine: 'Conversation closed',
  closedHeader: 'This conversation was closed. Write again any time.',
  sending: 'Sending…',
  notSent: (reason) => `Not sent: ${reason}`,
  yourMessage: 'Your message',
  placeholder: 'Type your question…',
  send: 'Send',
  closeChat: 'Close chat',
  agentTyping: 'Agent is typing…',
  read: 'Read',
  sent: 'Sent',
  attach: 'Attach a file or image',
  uploading: (p) => `Uploading… ${p}%`,
  uploadWaiting: 'Waiting to upload…',
  uploadTooLarge: (name, max) => `“${name}” is too large: files up to ${max} can be sent.`,
  uploadTypeRefused: (name) => `“${name}” cannot be sent: this type of file is not accepted.`,
  uploadFailed: (name) => `“${name}” was not sent.`,
  uploadsOff: 'Files cannot be sent in this chat.',
  dropHere: 'Drop a file to send it',
  download: (name, size) => `Download ${name} (${size})`,
  preChatTitle: 'Before we start',
  preChatIntro: 'Tell us a little about you so the right person can help.',
  name: 'Your name',
  contact: 'E-mail or phone number',
  contactHint: 'So we can get back to you if the chat is interrupted.',
  topic: 'What is it about?',
  optional: ' (optional)',
  start: 'Start chat',
  saving: 'Saving…',
  needName: 'Please enter your name.',
  needContact: 'Please enter an e-mail address or a phone number.',
  badContact: 'This does not look like an e-mail address (name@example.com) or a phone number (digits, may start with +).',
  needTopic: 'Please choose a topic.',
  unknownTopic: 'This topic is no longer offered; please choose another.',
  preChatFailed: 'Your details were not saved; please try again.',
  csatTitle: 'How did we do?',
  csatScores: ['Very unhappy', 'Unhappy', 'Okay', 'Happy', 'Very happy'],
  csatStar: (n) => `${n} out of 5`,
  csatComment: 'Anything you would like to add? (optional)',
  csatLater: 'Not now',
  csatSend: 'Send rating',
  csatThanks: 'Thank you for your rating!',
  csatFailed: 'The rating was not sent; please try again.',
};

const zh: Strings = {
  htmlLang: 'zh-CN',
  chatRegion: '在线客服',
  messagesLabel: '对话记录',
  subtitle: '我们通常会在几分钟内回复。',
  online: '在线',
  connecting: '正在连接…',
  reconnecting: '正在重新连接…',
  talkToPerson: '转人工',
  aiLabel: '智能助手',
  withAi: '智能助手正在为您解答，随时可以转人工。',
  standing(s) {
    if (s.noAgentOnline) return '目前没有客服在线：请留言，客服上线后会最先回复您。';
    const wait = s.estimatedWaitSeconds;
    return `排队中：您是第 ${s.position} 位${wait === null ? '' : wait < 60 ? '，马上为您接通' : `，预计等待约 ${mins(wait)} 分钟`}`;
  },
  thanksWaiting: '已收到！客服马上为您服务。',
  agentHelping: (name) => `${name ?? '客服'}正在为您服务`,
  agentJoined: (name) => `${name ?? '客服'}已加入对话`,
  closedLine: '会话已结束',
  closedHeader: '本次会话已结束，欢迎随时再来咨询。',
  sending: '发送中…',
  notSent: (reason) => `未发送：${reason}`,
  yourMessage: '您的消息',
  placeholder: '请输入您的问题…',
  send: '发送',
  closeChat: '关闭对话窗口',
  agentTyping: '客服正在输入…',
  read: '已读',
  sent: '已发送',
  attach: '发送文件或图片',
  uploading: (p) => `正在上传… ${p}%`,
  uploadWaiting: '等待上传…',
  uploadTooLarge: (name, max) => `“${name}”太大了：最大可发送 ${max} 的文件。`,
  uploadTypeRefused: (name) => `“${name}”无法发送：不支持这种文件类型。`,
  uploadFailed: (name) => `“${name}”发送失败。`,
  uploadsOff: '此对话不能发送文件。',
  dropHere: '松开即可发送文件',
  download: (name, size) => `下载 ${name}（${size}）`,
  preChatTitle: '开始咨询前',
  preChatIntro: '请简单介绍一下，以便合适的客服为您服务。',
  name: '您的称呼',
  contact: '邮箱或手机号',
  contactHint: '对话中断时方便我们联系您。',
  topic: '咨询类型',
  optional: '（选填）',
  start: '开始咨询',
  saving: '正在保存…',
  needName: '请输入您的称呼。',
  needContact: '请输入邮箱或手机号。',
  badContact: '请输入有效的邮箱（如 name@example.com）或手机号（数字，可以 + 开头）。',
  needTopic: '请选择咨询类型。',
  unknownTopic: '该咨询类型已不可用，请重新选择。',
  preChatFailed: '信息没有保存成功，请重试。',
  csatTitle: '您对本次服务满意吗？',
  csatScores: ['很不满意', '不满意', '一般', '满意', '非常满意'],
  csatStar: (n) => `${n} 星（共 5 星）`,
  csatComment: '还有什么想告诉我们的吗？（选填）',
  csatLater: '以后再说',
  csatSend: '提交评价',
  csatThanks: '感谢您的评价！',
  csatFailed: '评价没有提交成功，请稍后再试。',
};

/**
 * The widget's language: `override` (the loader's `data-huiliu-lang`, passed as `?lang=`) when it is
 * `zh…` or `en…`, else the browser's `navigator.language` (`zh…` → Chinese, anything else → English).
 */
export function pickLang(override: string | null, browser: string): Lang {
  const pick = (tag: string): Lang | null => {
    const t = tag.trim().toLowerCase();
    return t.startsWith('zh') ? 'zh' : t.startsWith('en') ? 'en' : null;
  };
  return (override && pick(override)) || (pick(browser) ?? 'en');
}

export const STRINGS: Record<Lang, Strings> = { en, zh };

/** A byte count for people: `980 B`, `12 KB`, `3.4 MB` (1 KB = 1024 B). */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} KB`;
  const mb = bytes / (1024 * 1024);
  return `${mb < 10 ? mb.toFixed(1).replace(/\.0$/, '') : Math.round(mb)} MB`;
}
