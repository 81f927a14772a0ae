import type { MessageView, SessionDetail, SessionSummary } from '../../../../common/api/sessions';
import type { PresenceChangedBy, ReassignTarget, SupervisedAgent } from '../../../../common/api/supervision';
import { HuiliuError } from '../../../../common/errors/codes';
import type { Presence } from '../../../../common/socket/agent-events';
import type { Slice } from './types';
import { shownSessionId } from './shown';

/**
 * Internal notes (issue 15) and the lead's supervision (issue 16; docs/supervision.md). The server
 * checks every act (`session.note`, `session.supervise`, `session.barge`, `presence.supervise`);
 * this slice only keeps what the views show.
 */
export interface SupervisionSlice {
  /** The conversation being supervised (read-only, live), or null. */
  supervisedId: string | null;
  supervised: SessionDetail | null;
  /** The stable error code of the last supervision act that failed (shown through i18n), or null. */
  supervisionError: string | null;
  /** Agents signed in to the lead's groups, for the reassign and state controls. */
  supervisedAgents: SupervisedAgent[];
  /** The lead who last changed this user's presence, shown on the agent's workstation until they change it. */
  presenceChangedBy: (PresenceChangedBy & { presence: Presence }) | null;
  /** The composer of an agent saving a note: the error code when it failed. */
  noteError: string | null;
  /**
   * Opens `sessionId` for supervision: read-only and live until `closeSupervision` (or another open).
   * The lead's live board calls this from its "Supervise" button.
   */
  openSupervision(sessionId: string): Promise<void>;
  closeSupervision(): Promise<void>;
  /** A whisper to the supervised conversation's agent. Resolves true when the server stored it. */
  whisper(text: string, clientMessageId?: string): Promise<boolean>;
  /** Barge in: a message to the supervised conversation's customer. Resolves true when sent. */
  barge(text: string, clientMessageId?: string): Promise<boolean>;
  reassign(to: ReassignTarget): Promise<SessionSummary | null>;
  loadSupervisedAgents(): Promise<void>;
  setAgentPresence(agentId: string, presence: 'available' | 'busy' | 'away'): Promise<void>;
  /** A message or note pushed for the supervised conversation (`message:new`, `note:new`). */
  receiveSupervised(message: MessageView): void;
  /** An agent's internal note in their open conversation. Resolves true when stored. */
  addNote(text: string): Promise<boolean>;
  receivePresenceChange(payload: { presence: Presence; by?: PresenceChangedBy }): void;
}

const codeOf = (error: unknown) => (error instanceof HuiliuError ? error.code : 'INTERNAL');
const newId = () => (typeof crypto !== 'undefined' && 'randomUUID' in crypto ? crypto.randomUUID() : `${Date.now()}-${Math.random()}`);

function merged(detail: SessionDetail, message: MessageView): SessionDetail {
  if (detail.messages.some((m) => m.id === message.id)) return detail;
  return { ...detail, messages: [...detail.messages, message].sort((a, b) => a.seq - b.seq) };
}

export const createSupervisionSlice: Slice<SupervisionSlice> = (set, get) => ({
  supervisedId: null,
  supervised: null,
  supervisionError: null,
  supervisedAgents: [],
  presenceChangedBy: null,
  noteError: null,

  async openSupervision(sessionId) {
    const conn = get().connection;
    const previous = get().supervisedId;
    set({ supervisedId: sessionId, supervised: null, supervisionError: null });
    if (!conn) return;
    if (previous && previous !== sessionId) void conn.request('supervise:leave', { sessionId: previous }).catch(() => undefined);
    try {
      const detail = await conn.request('supervise:open', { sessionId });
      if (get().supervisedId === sessionId) set({ supervised: detail });
      void get().loadSupervisedAgents();
    } catch (error) {
      if (get().supervisedId === sessionId) set({ supervisionError: codeOf(error) });
    }
  },

  async closeSupervision() {
    const { connection, supervisedId } = get();
    set({ supervisedId: null, supervised: null, supervisionError: null });
    if (connection && supervisedId) await connection.request('supervise:leave', { sessionId: supervisedId }).catch(() => undefined);
  },

  async whisper(text, clientMessageId = `whisper-${newId()}`) {
    const { connection, supervisedId } = get();
    if (!connection || !supervisedId) return false;
    try {
      const note = await connection.request('supervise:whisper', { sessionId: supervisedId, clientMessageId, text });
      get().receiveSupervised(note);
      set({ supervisionError: null });
      return true;
    } catch (error) {
      set({ supervisionError: codeOf(error) });
      return false;
    }
  },

  async barge(text, clientMessageId = `barge-${newId()}`) {
    const { connection, supervisedId } = get();
    if (!connection || !supervisedId) return false;
    try {
      const message = await connection.request('supervise:barge', { sessionId: supervisedId, clientMessageId, text });
      get().receiveSupervised(message);
      set({ supervisionError: null });
      return true;
    } catch (error) {
      set({ supervisionError: codeOf(error) });
      return false;
    }
  },

  async reassign(to) {
    const { connection, supervisedId } = get();
    if (!connection || !supervisedId) return null;
    try {
      const summary = await connection.request('supervise:reassign', { sessionId: supervisedId, to });
      set((s) => ({ supervisionError: null, supervised: s.supervised ? { ...s.supervised, ...summary } : s.supervised }));
      void get().loadSupervisedAgents();
      return summary;
    } catch (error) {
      set({ supervisionError: codeOf(error) });
      return null;
    }
  },

  async loadSupervisedAgents() {
    const conn = get().connection;
    if (!conn) return;
    try {
      set({ supervisedAgents: await conn.request('supervise:agents', {}) });
    } catch (error) {
      set({ supervisionError: codeOf(error) });
    }
  },

  async setAgentPresence(agentId, presence) {
    const conn = get().connection;
    if (!conn) return;
    try {
      const agent = await conn.request('supervise:presence', { agentId, presence });
      set((s) => ({
        supervisionError: null,
        supervisedAgents: s.supervisedAgents.map((a) => (a.id === agent.id ? { ...a, presence } : a)),
      }));
    } catch (error) {
      set({ supervisionError: codeOf(error) });
    }
  },

  receiveSupervised(message) {
    set((s) =>
      s.supervised && s.supervised.conversationId === message.conversationId ? { supervised: merged(s.supervised, message) } : {},
    );
  },

  async addNote(text) {
    const { connection } = get();
    // The note is about the conversation on screen (not one being opened meanwhile).
    const sessionId = shownSessionId(get());
    if (!connection || !sessionId) return false;
    try {
      const note = await connection.request('note:add', { sessionId, clientMessageId: `note-${newId()}`, text });
      get().receiveMessage(note);
      set({ noteError: null });
      return true;
    } catch (error) {
      set({ noteError: codeOf(error) });
      return false;
    }
  },

  receivePresenceChange({ presence, by }) {
    set({ presenceChangedBy: by ? { ...by, presence } : null });
  },
});

/** Leads and admins supervise (policy `session.supervise`); the server checks each act again. */
export const canSupervise = (user: { roles: readonly string[] } | null): boolean =>
  Boolean(user?.roles.some((r) => r === 'lead' || r === 'admin'));
