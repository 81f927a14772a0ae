import type { UserView } from '../../../common/api/auth';
import type { MessageView, SessionDetail, SessionSummary } from '../../../common/api/sessions';
import { NOTE_EVENT_NAME, type NoteEventData, type ReassignTarget, type SupervisedAgent } from '../../../common/api/supervision';
import { HuiliuError } from '../../../common/errors/codes';
import type { Presence } from '../../../common/socket/agent-events';
import { can } from '../auth/policy';
import type { Bus } from '../bus/bus';
import { newEvent, sessionFacts } from '../bus/events';
import type { Logger } from '../logging/logger';
import type { AfterCallWork } from '../routing/after-call-work';
import type { AgentPool } from '../routing/agent-pool';
import type { Router } from '../routing/router';
import type { SessionRecord, SessionStore } from '../sessions/store';
import type { SessionViews } from '../sessions/views';
import { sendText } from './outbound';
import type { TransferService } from './transfers';

/** How many channel switches an action follows from the session it names to the live one (as service.ts). */
const MAX_MOVES = 16;

export interface SupervisionDeps {
  store: SessionStore;
  bus: Bus;
  views: SessionViews;
  pool: AgentPool;
  router: Pick<Router, 'agentAvailable' | 'agentGone'>;
  /** Reassigning reuses the transfer use cases (a cold transfer on the holder's behalf). */
  transfers: Pick<TransferService, 'reassign'>;
  /** Staff users by id: names on notes, and an agent's groups for the presence scope. */
  directory: { userById(id: string): UserView | null };
  /** Setting an agent's presence ends their after-call work, as their own `presence:set` does. */
  afterCallWork?: Pick<AfterCallWork, 'cancel'>;
  logger: Logger;
  now?: () => number;
}

export interface NoteInput {
  sessionId: string;
  /** Idempotency key: the same id again answers the stored note and pushes nothing new. */
  clientMessageId: string;
  text: string;
}

/** What a lead's change of an agent's presence did, for the hub to tell the agent. */
export interface PresenceChange {
  agent: SupervisedAgent;
  presence: Presence;
}

/**
 * Internal notes (issue 15) and supervision (issue 16): the use cases behind `note:add` and
 * `supervise:*` (docs/supervision.md). Each applies the policy itself (`session.note`,
 * `session.supervise`, `session.barge`, `presence.supervise`; a session the actor may not see is
 * SESSION_NOT_FOUND, one they see but may not act on FORBIDDEN), so no transport can skip it.
 *
 * Notes and whispers are `staff.note` event messages stored with the conversation (sealed like
 * every message) and announced with `note.added`, never `message.out`: no channel adapter is ever
 * handed one. Barge-in is a reply through the one outbound path (`sendText`) with the lead as author.
 */
export interface SupervisionService {
  /** `note:add`: a note in a conversation the actor handles (their groups). SESSION_NOT_FOUND, FORBIDDEN, SESSION_CLOSED. */
  note(actor: UserView, input: NoteInput): Promise<MessageView>;
  /** `supervise:open`: the conversation read-only, as the lead sees it (whispers included). SESSION_NOT_FOUND, FORBIDDEN. */
  open(actor: UserView, sessionId: string): Promise<SessionDetail>;
  /** The check `supervise:open` makes, without reading the conversation (the hub's live room join). */
  mayWatch(actor: UserView, sessionId: string): Promise<SessionRecord>;
  /** `supervise:whisper`: a note for the contact's agent only. NO_AGENT_ASSIGNED when nobody holds it. */
  whisper(actor: UserView, input: NoteInput): Promise<MessageView>;
  /** `supervise:barge`: a message to the customer on their channel, written by the lead. SESSION_CLOSED. */
  barge(actor: UserView, input: NoteInput): Promise<MessageView>;
  /** `supervise:reassign`: to another agent of the group or back to the queue (transfers.reassign). */
  reassign(actor: UserView, input: { sessionId: string; to: ReassignTarget; note?: string | undefined }): Promise<SessionSummary>;
  /** `supervise:agents`: agents signed in (on this node) to groups the actor supervises. */
  agents(actor: UserView): SupervisedAgent[];
  /** `supervise:presence`: sets an agent's presence. AGENT_NOT_FOUND (not signed in here, or not in the actor's groups). */
  setPresence(actor: UserView, agentId: string, presence: 'available' | 'busy' | 'away'): Promise<PresenceChange>;
}

export function createSupervisionService(deps: SupervisionDeps): SupervisionService {
  const now = deps.now ?? Date.now;
  const log = deps.logger.child({ component: 'supervision' });
  const nameOf = (id: string) => deps.directory.userById(id)?.displayName ?? id;
  /** Supervised: a signed-in user with the agent role (not a fellow lead) in a group the actor supervises. */
  const supervisable = (actor: UserView, a: { id: string; skillGroups: readonly string[] }) =>
    a.id !== actor.id &&
    (deps.directory.userById(a.id)?.roles.includes('agent') ?? false) &&
    can(actor, 'presence.supervise', { skillGroups: a.skillGroups });

  /** The session if the actor may see it and do `action` on its group; else SESSION_NOT_FOUND / FORBIDDEN. */
  async function allowed(actor: UserView, sessionId: string, action: 'session.note' | 'session.supervise' | 'session.barge') {
    let session = await deps.store.getSession(sessionId);
    const visible = (s: SessionRecord | null): s is SessionRecord =>
      !!s && (can(actor, 'session.view', { skillGroup: s.skillGroup }) || can(actor, 'session.supervise', { skillGroup: s.skillGroup }));
    if (!visible(session)) throw new HuiliuError('SESSION_NOT_FOUND');
    // A customer who went on to another channel (issue 12): act on the session that carries the conversation now.
    for (let hops = 0; session.status === 'closed' && session.movedTo && hops < MAX_MOVES; hops++) {
      const next = await deps.store.getSession(session.movedTo);
      if (!visible(next)) break;
      session = next;
    }
    if (!can(actor, action, { skillGroup: session.skillGroup })) throw new HuiliuError('FORBIDDEN');
    return session;
  }

  async function storeNote(actor: UserView, session: SessionRecord, input: NoteInput, whisperTo: string | null): Promise<MessageView> {
    if (session.status === 'closed') throw new HuiliuError('SESSION_CLOSED');
    const data: NoteEventData = {
      text: input.text,
      author: { id: actor.id, name: actor.displayName },
      whisper: whisperTo !== null,
      to: whisperTo ? { id: whisperTo, name: nameOf(whisperTo) } : null,
    };
    const { envelope, duplicate } = await deps.store.appendOutbound({
      sessionId: session.id,
      authorId: actor.id,
      authorKind: 'agent',
      // Namespaced so a note's key can never answer (or collide with) a reply's.
      clientMessageId: `${whisperTo ? 'whisper' : 'note'}:${input.clientMessageId}`,
      content: { kind: 'event', body: { name: NOTE_EVENT_NAME, data } },
      critical: true,
    });
    if (!duplicate) {
      await deps.bus.publish(
        newEvent(
          'note.added',
          {
            actor: actor.id,
            sessionId: session.id,
            conversationId: envelope.conversationId,
            payload: { envelope, session: sessionFacts(session) },
          },
          now,
        ),
      );
      log.info({ sessionId: session.id, messageId: envelope.id, whisper: data.whisper }, 'internal note added');
    }
    return deps.views.message(envelope);
  }

  function agentView(a: {
    id: string;
    displayName: string;
    skillGroups: readonly string[];
    presence: Presence;
    activeChats: number;
  }): SupervisedAgent {
    return { id: a.id, name: a.displayName, skillGroups: [...a.skillGroups], presence: a.presence, activeChats: a.activeChats };
  }

  return {
    async note(actor, input) {
      return storeNote(actor, await allowed(actor, input.sessionId, 'session.note'), input, null);
    },

    async mayWatch(actor, sessionId) {
      return allowed(actor, sessionId, 'session.supervise');
    },

    async open(actor, sessionId) {
      const session = await allowed(actor, sessionId, 'session.supervise');
      return deps.views.detail(session, actor);
    },

    async whisper(actor, input) {
      const session = await allowed(actor, input.sessionId, 'session.supervise');
      const agentId = session.status === 'active' ? session.assignedAgentId : null;
      if (!agentId) throw new HuiliuError('NO_AGENT_ASSIGNED');
      return storeNote(actor, session, input, agentId);
    },

    async barge(actor, { sessionId, clientMessageId, text }) {
      const session = await allowed(actor, sessionId, 'session.barge');
      if (session.status === 'closed') throw new HuiliuError('SESSION_CLOSED');
      const { envelope, duplicate } = await sendText({ ...deps, now }, session, {
        actor: actor.id,
        authorId: actor.id,
        authorKind: 'agent',
        clientMessageId: `barge:${clientMessageId}`,
        text,
      });
      if (!duplicate) log.info({ sessionId: session.id, messageId: envelope.id }, 'a lead barged in');
      return deps.views.message(envelope);
    },

    async reassign(actor, input) {
      const session = await allowed(actor, input.sessionId, 'session.supervise');
      await deps.transfers.reassign(actor, { ...input, sessionId: session.id });
      const after = await deps.store.getSession(session.id);
      return deps.views.summary(after ?? session);
    },

    agents(actor) {
      return deps.pool
        .all()
        .filter((a) => supervisable(actor, a))
        .map(agentView)
        .sort((a, b) => a.name.localeCompare(b.name));
    },

    async setPresence(actor, agentId, presence) {
      const state = deps.pool.get(agentId);
      // Not signed in here, or not in a group the actor supervises: the same answer (nothing leaks).
      if (!state || !supervisable(actor, state)) throw new HuiliuError('AGENT_NOT_FOUND');
      deps.afterCallWork?.cancel(agentId);
      deps.pool.setPresence(agentId, presence, now());
      if (presence === 'available') await deps.router.agentAvailable(agentId);
      else await deps.router.agentGone(agentId);
      log.info({ agentId, presence }, 'presence set by a lead');
      return { agent: agentView(state), presence };
    },
  };
}
