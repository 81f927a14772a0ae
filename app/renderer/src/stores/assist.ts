import type { ConversationSummary, Suggestion } from '../../../../common/ai/assist';
import type { Slice } from './types';
import { shownSessionId } from './shown';

/** Suggested replies loaded for one customer message of one session. */
export interface LoadedSuggestions {
  sessionId: string;
  /** The customer message they answer (a newer one loads new suggestions). */
  forMessageId: string;
  items: Suggestion[];
}

/**
 * AI assistance in the open conversation (issue 10): suggested replies for the customer's latest
 * message, discarding the AI draft, and a summary for the wrap-up note. The draft itself arrives with
 * the session detail (`detail.draft`) and is sent through the conversation slice's `send(text, draftId)`.
 */
export interface AssistSlice {
  suggestions: LoadedSuggestions | null;
  /** Loads suggestions for the open session's customer message `forMessageId` (once per message). */
  loadSuggestions(forMessageId: string): Promise<void>;
  /** Throws the open session's AI draft away (kept as feedback on the server) and drops it from the detail. */
  discardDraft(): Promise<void>;
  /** A summary of the open session (null when the server cannot make one now). */
  summarize(): Promise<ConversationSummary | null>;
}

export const createAssistSlice: Slice<AssistSlice> = (set, get) => ({
  suggestions: null,

  async loadSuggestions(forMessageId) {
    const { connection, suggestions } = get();
    // For the composer on screen: the shown conversation, not one being opened meanwhile.
    const openSessionId = shownSessionId(get());
    if (!connection || !openSessionId) return;
    if (suggestions?.sessionId === openSessionId && suggestions.forMessageId === forMessageId) return;
    set({ suggestions: { sessionId: openSessionId, forMessageId, items: [] } });
    try {
      // Volatile help, not a critical act: no retries, a failure just shows none.
      const items = await connection.request('ai:suggest', { sessionId: openSessionId }, { retries: 0 });
      set((s) =>
        s.suggestions?.sessionId === openSessionId && s.suggestions.forMessageId === forMessageId
          ? { suggestions: { sessionId: openSessionId, forMessageId, items } }
          : {},
      );
    } catch {
      // Shown as "no suggestions"; the agent writes the reply themselves.
    }
  },

  async discardDraft() {
    const { connection, detail } = get();
    const draft = detail?.draft;
    if (!connection || !detail || !draft) return;
    set((s) => (s.detail?.id === detail.id ? { detail: { ...s.detail, draft: undefined } } : {}));
    try {
      await connection.request('draft:discard', { sessionId: detail.id, draftId: draft.id });
    } catch {
      // The draft is gone from the composer either way; the server keeps it open and reports it as such.
    }
  },

  async summarize() {
    const { connection } = get();
    // The wrap-up note on screen is the shown conversation's.
    const openSessionId = shownSessionId(get());
    if (!connection || !openSessionId) return null;
    try {
      return await connection.request('session:summary', { sessionId: openSessionId }, { retries: 0 });
    } catch {
      return null;
    }
  },
});
