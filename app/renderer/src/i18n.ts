import type { Emotion } from '../../../common/ai/types';

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

export const STRINGS: Record<Locale, { emotions: Record<ShownEmotion, string>; assist: AssistStrings }> = {
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
  },
};
