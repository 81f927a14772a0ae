import type { AuthorKind, ConversationSummary, Handover, HandoverReason, SummaryFacts } from '../../../../common/ai/assist';
import type { Analysis, Lang } from '../../../../common/ai/types';
import { authorOf, textOf, type Envelope } from '../../../../common/message/envelope';
import { truncateText } from '../../../../common/text/text';
import { detectLang, normalizeText, tokenize } from '../text';
import { extractDetailsAll } from './entities';

/**
 * The conversation summary (issue 10) shown to the person who takes a contact over (hand-over,
 * transfer) and offered as the wrap-up note: the intent, what the customer wants, what was done.
 * Extractive: every word of `wants` is the customer's own (their most informative sentences); the
 * rest is counted from the conversation. Chinese or English after the customer's language.
 * The optional LLM adapter (`summary.llm.ts`) may write `wants` and `done` instead.
 */

/** One message as the summarizer reads it. */
export interface SummaryMessage {
  author: AuthorKind;
  text: string;
}

export interface SummaryInput {
  /** The conversation, oldest first (the newest SUMMARY_MESSAGES_MAX are read). */
  messages: readonly SummaryMessage[];
  /** The session's hand-over from the AI, when there was one. */
  handover?: Handover | null;
}

export interface SummaryDeps {
  /** The language core (`LanguageCore.analyze`); its intent model names the intent. */
  analyze: (text: string) => Pick<Analysis, 'intent'>;
  /** The KB intent an AI message's text answers (an auto-answer is a KB answer), or null. */
  intentOfAnswer?: (text: string) => string | null;
  now?: () => number;
}

/** Messages read per summary (the newest): a long conversation costs no more than this. */
export const SUMMARY_MESSAGES_MAX = 60;
/** `wants` is cut to this many UTF-16 units (by grapheme). */
export const WANTS_MAX = 160;
/** A customer sentence is read by the intent model up to this length. */
const SENTENCE_MAX = 400;

/** The summarizer's view of stored messages: who wrote each and its text (files as their name). */
export function summaryMessages(envelopes: readonly Envelope[]): SummaryMessage[] {
  return envelopes.filter((e) => e.kind !== 'event').map((e) => ({ author: authorOf(e), text: textOf(e) }));
}

const STOP = new Set(
  (
    'the a an is are was were be been am i me my you your we our it its this that to of in on for with at by from and or but so do does did ' +
    'can could would will should please pls hi hello hey thanks thank thx ok okay yes no just there here what how when why where which who ' +
    '的 了 吗 呢 啊 吧 呀 哦 嗯 我 你 您 他 她 它 我们 你们 是 在 有 和 就 都 也 还 这 那 个 一个 一下 请 请问 亲 你好 您好 谢谢 好的 在吗 麻烦'
  ).split(' '),
);
const GREETING_ONLY =
  /^(?:hi|hello|hey|thanks|thank you|thx|ok|okay|yes|no|在吗|在么|你好|您好|亲|谢谢|好的|嗯|哦|好)[\s!！?？.。,，~～]*$/iu;
/** Words that make a sentence a request (bonus): "how do I …", "能不能…", "帮我…". */
const ASKS = /[?？]|(?:^|\s)(?:how|why|when|where|can|could|please|want|need|help)\b|能不能|可以|怎么|为什么|帮我|想要|需要|请/iu;

const ABBREVIATION = /(?:^|\s)(?:no|nr|mr|mrs|ms|dr|st|vs|approx|e\.g|i\.e)\.$/i;

/** Sentences of a text with their end punctuation; Chinese ends (。！？；) and English ones (". ", "! ", "? ") and line breaks. */
export function sentences(text: string): string[] {
  const out: string[] = [];
  for (const part of text.split(/\n+/)) {
    const re = /[^。！？；!?;]+(?:[。！？；!?;]+|$)|[。！？；!?;]+/gu;
    for (const m of part.matchAll(re)) {
      // English periods end a sentence only before a space (not in "3.5" or an order id), and not after "no.", "Mr." ….
      let pending = '';
      for (const piece of m[0].split(/(?<=\.)\s+/)) {
        pending = pending ? `${pending} ${piece}` : piece;
        if (ABBREVIATION.test(pending)) continue;
        if (pending.trim()) out.push(pending.trim());
        pending = '';
      }
      if (pending.trim()) out.push(pending.trim());
    }
  }
  return out;
}

/** Words of a text that carry content (not stop words, greetings or thanks), in Chinese or English. */
export function contentWordCount(text: string): number {
  return tokenize(normalizeText(text)).words.filter((w) => !STOP.has(w)).length;
}

/** How much a sentence says: its content words, numbers, whether it asks, whether it is on the intent. */
function informativeness(sentence: string, onIntent: boolean): number {
  if (GREETING_ONLY.test(sentence.trim())) return 0;
  const words = tokenize(normalizeText(sentence)).words;
  const content = contentWordCount(sentence);
  if (content === 0) return 0;
  const numbers = words.filter((w) => /\d{4,}/.test(w)).length;
  return Math.min(content, 12) + 2 * Math.min(numbers, 2) + (ASKS.test(sentence) ? 2 : 0) + (onIntent ? 4 : 0);
}

const REASONS: Record<Lang, Record<HandoverReason, string>> = {
  en: {
    'low-confidence': 'the AI was not sure',
    'customer-asked': 'the customer asked for a person',
    button: 'the customer pressed "talk to a person"',
    'negative-emotion': 'the customer was upset',
    'unresolved-turns': 'the AI could not resolve it',
    'agent-took-over': 'an agent took over',
    'ai-unavailable': 'the AI was unavailable',
  },
  zh: {
    'low-confidence': 'AI 把握不足',
    'customer-asked': '客户要求转人工',
    button: '客户点击了“转人工”',
    'negative-emotion': '客户情绪不佳',
    'unresolved-turns': 'AI 未能解决',
    'agent-took-over': '客服主动接管',
    'ai-unavailable': 'AI 不可用',
  },
};

const LABELS: Record<Lang, { intent: string; unknown: string; wants: string; done: string; details: string; nothing: string }> = {
  en: { intent: 'Intent', unknown: 'not recognised', wants: 'Customer wants', done: 'Done', details: 'Details', nothing: 'nothing yet' },
  zh: { intent: '意图', unknown: '未识别', wants: '客户诉求', done: '已处理', details: '关键信息', nothing: '尚未处理' },
};

/** The lines shown for a summary's parts (2–4: intent, wants, done, and the numbers the customer gave when any). */
export function summaryLines(
  parts: { intent: string | null; wants: string; done: string },
  lang: Lang,
  details: { orders: string[]; tracking: string[] },
): string[] {
  const l = LABELS[lang];
  const colon = lang === 'zh' ? '：' : ': ';
  const lines = [`${l.intent}${colon}${parts.intent ?? l.unknown}`];
  if (parts.wants) lines.push(`${l.wants}${colon}${parts.wants}`);
  lines.push(`${l.done}${colon}${parts.done}`);
  const numbers = [
    ...details.orders.map((o) => (lang === 'zh' ? `订单 ${o}` : `order ${o}`)),
    ...details.tracking.map((t) => (lang === 'zh' ? `运单 ${t}` : `tracking ${t}`)),
  ];
  if (numbers.length) lines.push(`${l.details}${colon}${numbers.join(lang === 'zh' ? '；' : '; ')}`);
  return lines;
}

/** The summary's language: the customer's (Chinese when their words are), English when they said nothing. */
export function summaryLang(messages: readonly SummaryMessage[]): Lang {
  const said = messages
    .filter((m) => m.author === 'customer')
    .map((m) => m.text)
    .join('\n');
  return said ? detectLang(said) : 'en';
}

/**
 * Summarizes a conversation extractively (see the module comment):
 * - `intent`: the best in-scope intent the core reads in any of the customer's messages (highest
 *   confidence; null when every message is out of scope or no model is loaded);
 * - `wants`: the customer's most informative sentence, and the next one when it is short, in their
 *   order, cut by grapheme to WANTS_MAX;
 * - `done`: the AI's answers (with their intents), the hand-over and its reason, the agents' replies;
 * - `lines`: what the workstation shows (`summaryLines`).
 */
export function summarize(input: SummaryInput, deps: SummaryDeps): ConversationSummary {
  const messages = input.messages.slice(-SUMMARY_MESSAGES_MAX);
  const lang = summaryLang(messages);
  const said = messages.filter((m) => m.author === 'customer' && m.text.trim());

  let intent: { label: string; confidence: number } | null = null;
  for (const m of said) {
    const { intent: read } = deps.analyze(m.text.slice(0, SENTENCE_MAX * 5));
    if (!read.outOfScope && (!intent || read.confidence > intent.confidence)) intent = { label: read.label, confidence: read.confidence };
  }

  const candidates = said.flatMap((m, mi) => sentences(m.text).map((s, si) => ({ s, order: mi * 1000 + si })));
  const scored = candidates
    .map((c) => {
      const read = intent ? deps.analyze(c.s.slice(0, SENTENCE_MAX)).intent : null;
      return { ...c, score: informativeness(c.s, read !== null && !read.outOfScope && read.label === intent?.label) };
    })
    .filter((c) => c.score > 0)
    .sort((a, b) => b.score - a.score || b.order - a.order);
  const chosen = scored.slice(0, 1);
  if (chosen[0] && chosen[0].s.length < 40 && scored[1]) chosen.push(scored[1]);
  chosen.sort((a, b) => a.order - b.order);
  const joined = chosen.map((c) => c.s).join(lang === 'zh' ? '' : ' ');
  const wants = truncateText(joined || (said.at(-1)?.text.trim() ?? ''), WANTS_MAX, '…');

  const handover = input.handover ?? null;
  const counted = doneCounts(messages, deps.intentOfAnswer);
  const done = doneOf(counted, handover, lang);
  const details = extractDetailsAll(said.map((m) => m.text).reverse());
  const parts = { intent: intent?.label ?? null, wants, done };
  const facts: SummaryFacts = {
    aiAnswers: counted.aiAnswers,
    aiIntents: counted.intents.slice(0, 20),
    handover: handover ? { reason: handover.reason, noAgentOnline: handover.noAgentOnline } : null,
    agentReplies: counted.agentReplies,
    orders: details.orders.slice(0, 20),
    tracking: details.tracking.slice(0, 20),
  };
  return {
    ...parts,
    lines: summaryLines(parts, lang, details),
    facts,
    by: 'extractive',
    at: new Date((deps.now ?? Date.now)()).toISOString(),
  };
}

/** The AI's answers (and the distinct intents they answered) and the agents' replies in the messages. */
export function doneCounts(
  messages: readonly SummaryMessage[],
  intentOfAnswer?: (text: string) => string | null,
): { aiAnswers: number; intents: string[]; agentReplies: number } {
  const ai = messages.filter((m) => m.author === 'ai');
  const intents = [...new Set(ai.map((m) => intentOfAnswer?.(m.text) ?? null).filter((x): x is string => x !== null))];
  return { aiAnswers: ai.length, intents, agentReplies: messages.filter((m) => m.author === 'agent').length };
}

/** What the AI and the agents did, worded: "AI answered 2× (order_status); handed over: …; agent replied 1×". */
export function doneOf(counted: ReturnType<typeof doneCounts>, handover: Handover | null, lang: Lang): string {
  const { aiAnswers, intents, agentReplies: agent } = counted;
  const parts: string[] = [];
  if (lang === 'zh') {
    if (aiAnswers) parts.push(`AI 已回答 ${aiAnswers} 次${intents.length ? `（${intents.join('、')}）` : ''}`);
    if (handover) parts.push(`已转人工：${REASONS.zh[handover.reason]}${handover.noAgentOnline ? '（当时无客服在线）' : ''}`);
    if (agent) parts.push(`客服已回复 ${agent} 次`);
    return parts.length ? parts.join('；') : LABELS.zh.nothing;
  }
  if (aiAnswers) parts.push(`AI answered ${aiAnswers}×${intents.length ? ` (${intents.join(', ')})` : ''}`);
  if (handover) parts.push(`handed over: ${REASONS.en[handover.reason]}${handover.noAgentOnline ? ' (no agent was online)' : ''}`);
  if (agent) parts.push(`agent replied ${agent}×`);
  return parts.length ? parts.join('; ') : LABELS.en.nothing;
}
