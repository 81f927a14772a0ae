import type { Messages } from './messages';

/** AI assistance (issue 10): drafts, suggestions, summaries, the AI mark, the wrap-up note. */
export const en = {
  draftBanner: 'AI draft — review before sending',
  draftFromKb: 'from the knowledge base: {{intent}}',
  draftFromPast: 'from a past reply to a similar question',
  discard: 'Discard',
  suggestions: 'Suggested replies',
  suggestionKb: 'KB: {{intent}}',
  suggestionPast: 'Past reply',
  insertHint: 'Click to insert into the reply (nothing is sent)',
  summaryTitle: 'Summary',
  summaryBy: { extractive: 'from the conversation', llm: 'written by the language model' },
  aiMark: 'AI',
  aiMarkTitle: 'Written by the AI',
  wrapUpNote: 'Wrap-up note',
  wrapUpNoteLoading: 'Summarizing…',
} as const;

export const zh: Messages<typeof en> = {
  draftBanner: 'AI 草稿——发送前请审核',
  draftFromKb: '来自知识库：{{intent}}',
  draftFromPast: '来自相似问题的历史回复',
  discard: '丢弃',
  suggestions: '推荐回复',
  suggestionKb: '知识库：{{intent}}',
  suggestionPast: '历史回复',
  insertHint: '点击插入到回复框（不会自动发送）',
  summaryTitle: '会话摘要',
  summaryBy: { extractive: '摘自对话', llm: '由语言模型撰写' },
  aiMark: 'AI',
  aiMarkTitle: '由 AI 撰写',
  wrapUpNote: '结束备注',
  wrapUpNoteLoading: '正在生成摘要…',
};
