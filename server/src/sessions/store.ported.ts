import { HuiliuError } from '../../../common/errors/codes';
import type { Envelope } from '../../../common/message/envelope';
import type { ConversationStore } from './conversations';
import type { RedisConversationStore } from './conversations.redis';
import type { ClaimResult, MessagePage, SessionRecord, SessionStore } from './store';

export interface PortedStoreOptions {
  /** A mirror write to the port failed in a way the wide store's answer does not explain (logged by the server). */
  onMirrorError?: (error: unknown, op: MirrorOp) => void;
  /** A session was closed (wrap-up, abandon, a transfer or merge that closed it): the archive hook. */
  onClosed?: (session: SessionRecord) => void;
}

/** The state changes of `wide` mirrored to the port. */
export type MirrorOp = 'claim' | 'close' | 'release' | 'abandon' | 'routing' | 'bot' | 'handover' | 'transfer' | 'merge';

/** Largest page the port hands out (conversations.ts); longer reads page through it. */
const PORT_PAGE = 1000;
/** How many of a group member's sessions the timeline looks at (their conversations, newest first by the wide store). */
const TIMELINE_CONVERSATIONS = 5000;

/**
 * `HUILIU_STORE=redis` (issue 14, docs/store.md "Routing the product through the port"): a
 * `SessionStore` whose conversation hot path runs on a `ConversationStore` (the Redis Cluster adapter)
 * while customers, identities, continuity, routing decisions, transfers and merges stay on `wide` (the
 * SQLite store; in `main.ts` wrapped by `routeCustomers`, customers/customers.route.ts, so customers and
 * identities are resolved on the customers port first, and the result by `routeDecisions`,
 * routing/decisions.ported.ts: the decision log is copied to and read from the decisions port).
 *
 * - `appendInbound`: `wide.admitInbound` finds or opens the session (one SQLite write, no message), the
 *   port opens it too (idempotent) and appends the message — its `seq`, idempotency and sealed payload
 *   are the port's. `newSession` is true only for the call that opened the session.
 * - `appendOutbound`: the session must exist and be open on `wide` (SESSION_NOT_FOUND, SESSION_CLOSED),
 *   then the port appends.
 * - History (`listMessages`, `recentMessages`, `lastMessage`) reads the port.
 * - Every session state change is decided by `wide` (it holds offers, capacity, transfers, the AI tier
 *   and merges) and copied to the port with `follow` — claim, close, release, abandon, routing offers,
 *   the bot tier, hand-over, transfers, sessions detached by an undone merge — so the port's session
 *   state and queue index follow and the port refuses appends to a closed session. A copy that fails
 *   is reported through `onMirrorError`, never failed to the caller: `wide` is the source of truth.
 *   (Sessions the privacy erasure closes are written by the privacy store straight to SQLite; their
 *   port copy follows at the next change, and their content is unreadable anyway.)
 * - `forgetCached` also drops the port's cached data keys of the erased customers (this process).
 * - `timeline` (a customer's messages across conversations): `wide` names the group's conversations
 *   (from its sessions), the port pages each one back from its newest message, and the pages are merged
 *   newest first by message id (UUIDv7, time-ordered) — the order the SQLite timeline gives.
 * @throws HuiliuError INTERNAL when `wide` cannot admit inbound messages without storing them
 */
export function routeConversations(wide: SessionStore, port: ConversationStore, options: PortedStoreOptions = {}): SessionStore {
  const admit = wide.admitInbound?.bind(wide);
  if (!admit) throw new HuiliuError('INTERNAL', 'this session store cannot admit messages for a conversations port');
  // Sessions this process knows the port has (open is idempotent, but a round trip per message is not free).
  const opened = new Set<string>();
  async function ensureOpen(session: SessionRecord): Promise<void> {
    if (opened.has(session.id)) return;
    await port.openSession({
      sessionId: session.id,
      conversationId: session.conversationId,
      customerId: session.customerId,
      channel: session.channel,
      skillGroup: session.skillGroup,
    });
    if (opened.size > 100_000) opened.clear();
    opened.add(session.id);
  }
  /**
   * Copies a state change `wide` decided to the port (its session state and queue index). A failure is
   * reported through `onMirrorError`, never to the caller: `wide` is the source of truth, and the next
   * change of the session copies its whole state again.
   */
  async function follow(op: MirrorOp, session: SessionRecord): Promise<void> {
    try {
      await ensureOpen(session);
      await port.follow(session);
    } catch (error) {
      options.onMirrorError?.(error, op);
    }
    if (session.status === 'closed') options.onClosed?.(session);
  }

  const ported: SessionStore = {
    ...wide,
    kind: port.kind,

    async appendInbound(draft, opts) {
      const admitted = await admit(draft, opts);
      await ensureOpen(admitted.session);
      const { envelope, duplicate } = await port.append({
        sessionId: admitted.session.id,
        direction: 'in',
        content: draft.content,
        clientMessageId: draft.clientMessageId,
        critical: draft.critical,
        authorKind: 'customer',
        sentAt: draft.sentAt,
        receivedAt: draft.receivedAt,
        ...(draft.meta ? { meta: draft.meta } : {}),
        ...(draft.idempotencyContent !== undefined ? { idempotencyContent: draft.idempotencyContent } : {}),
      });
      const session = duplicate ? admitted.session : { ...admitted.session, lastMessageAt: envelope.receivedAt };
      return { ...admitted, envelope, session, duplicate, newSession: admitted.newSession && !duplicate };
    },

    async appendOutbound(input) {
      const session = await wide.getSession(input.sessionId);
      if (!session) throw new HuiliuError('SESSION_NOT_FOUND');
      await ensureOpen(session);
      if (session.status === 'closed') {
        // A retry of a reply stored before the close answers the stored one (the port's idempotency).
        const stored = await findByClientId(session.conversationId, 'out', input.clientMessageId);
        if (stored) return { envelope: stored, duplicate: true };
        throw new HuiliuError('SESSION_CLOSED');
      }
      return port.append({
        sessionId: input.sessionId,
        direction: 'out',
        content: input.content,
        clientMessageId: input.clientMessageId,
        critical: input.critical,
        authorKind: input.authorKind ?? (input.authorId ? 'agent' : 'system'),
        authorId: input.authorId,
        ...(input.meta ? { meta: input.meta } : {}),
      });
    },

    async listMessages(conversationId, { afterSeq = 0, limit = 1000, customerId } = {}) {
      const want = Math.max(1, Math.min(limit, 10_000));
      const out: Envelope[] = [];
      let after = afterSeq;
      while (out.length < want) {
        // Only what is still wanted (a page of 50 reads 50 records, not the port's largest page); with a
        // customer filter the page is full-size, since some of it may be filtered out.
        const ask = customerId ? PORT_PAGE : Math.min(PORT_PAGE, want - out.length);
        const page = await port.listMessages(conversationId, { afterSeq: after, limit: ask });
        for (const m of page) if (!customerId || m.customerId === customerId) out.push(m);
        if (page.length < ask) break;
        after = page[page.length - 1]!.seq;
      }
      return out.slice(0, want);
    },

    recentMessages(conversationId, opts): Promise<MessagePage> {
      return port.recentMessages(conversationId, opts);
    },

    async lastMessage(conversationId, { direction } = {}) {
      if (!direction) return port.lastMessage(conversationId);
      // Walks back from the newest: a customer message is usually a few messages away.
      for await (const m of newestFirst(conversationId, 50)) if (m.direction === direction) return m;
      return null;
    },

    async claim(sessionId, agentId): Promise<ClaimResult> {
      const result = await wide.claim(sessionId, agentId);
      if (result.changed) await follow('claim', result.session);
      return result;
    },

    async close(sessionId, agentId, wrapUpCode, note) {
      const closed = await wide.close(sessionId, agentId, wrapUpCode, note);
      await follow('close', closed);
      return closed;
    },

    // Two stores cannot share a transaction: the order holds (the lines before the close, the claim
    // before its lines), all-or-nothing does not — a line stored before a failed close stays.
    async appendAndClaim(sessionId, agentId, history): Promise<ClaimResult> {
      const result = await ported.claim(sessionId, agentId);
      for (const line of history) await ported.appendOutbound({ ...line, sessionId });
      return result;
    },

    async appendAndClose(sessionId, agentId, wrapUpCode, note, history) {
      for (const line of history) await ported.appendOutbound({ ...line, sessionId });
      return ported.close(sessionId, agentId, wrapUpCode, note);
    },

    async release(sessionId, agentId) {
      const released = await wide.release(sessionId, agentId);
      if (released) await follow('release', released);
      return released;
    },

    async abandon(sessionId) {
      const abandoned = await wide.abandon(sessionId);
      if (abandoned) await follow('abandon', abandoned);
      return abandoned;
    },

    async saveRouting(sessionId, decision, offer, seen) {
      const saved = await wide.saveRouting(sessionId, decision, offer, seen);
      if (saved.applied) await follow('routing', saved.session);
      return saved;
    },

    async startBot(sessionId, decision) {
      const saved = await wide.startBot(sessionId, decision);
      if (saved.applied) await follow('bot', saved.session);
      return saved;
    },

    async handOver(sessionId, input) {
      const result = await wide.handOver(sessionId, input);
      if (result.changed) await follow('handover', result.session);
      return result;
    },

    async startTransfer(input) {
      const started = await wide.startTransfer(input);
      await follow('transfer', started.session);
      return started;
    },

    async decideTransfer(transferId, outcome) {
      const decided = await wide.decideTransfer(transferId, outcome);
      if (decided.changed) await follow('transfer', decided.session);
      return decided;
    },

    async undoTransfer(transferId, restore) {
      const undone = await wide.undoTransfer(transferId, restore);
      if (undone.changed) await follow('transfer', undone.session);
      return undone;
    },

    async undoMerge(mergeId, by) {
      const undone = await wide.undoMerge(mergeId, by);
      for (const session of undone.detached) await follow('merge', session);
      return undone;
    },

    async timeline(customerId, { before, limit = 50 } = {}) {
      const members = await wide.customerGroup(customerId);
      const size = Math.max(1, Math.min(limit, 200));
      const conversations = new Set<string>();
      for (const member of members) {
        for (const s of await wide.listSessions({ customerId: member, limit: TIMELINE_CONVERSATIONS })) conversations.add(s.conversationId);
      }
      const inGroup = new Set(members);
      const candidates: Envelope[] = [];
      // Each conversation gives at most size + 1 of its newest messages older than `before`: the merge
      // of those holds the page plus one more (which says whether older messages exist).
      for (const conversationId of conversations) {
        let taken = 0;
        for await (const m of newestFirst(conversationId, size + 1)) {
          if ((before !== undefined && m.id >= before) || !inGroup.has(m.customerId)) continue;
          candidates.push(m);
          if (++taken > size) break;
        }
      }
      candidates.sort((a, b) => (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
      return { messages: candidates.slice(0, size), hasOlder: candidates.length > size };
    },

    forgetCached(customerIds) {
      const redis = port as Partial<RedisConversationStore>;
      return wide.forgetCached(customerIds) + (redis.forgetCustomers ? redis.forgetCustomers(customerIds) : 0);
    },

    async ping() {
      await wide.ping();
      await port.ping();
    },

    async shutdown() {
      await port.shutdown();
      await wide.shutdown();
    },
  };
  return ported;

  async function findByClientId(conversationId: string, direction: 'in' | 'out', clientMessageId: string): Promise<Envelope | null> {
    for await (const m of newestFirst(conversationId, PORT_PAGE, 20)) {
      if (m.direction === direction && m.clientMessageId === clientMessageId) return m;
    }
    return null;
  }

  /** The conversation's messages from the newest back, read from the port `pageSize` at a time (at most `maxPages` pages). */
  async function* newestFirst(conversationId: string, pageSize: number, maxPages = Number.POSITIVE_INFINITY): AsyncGenerator<Envelope> {
    let beforeSeq: number | undefined;
    for (let pages = 0; pages < maxPages; pages++) {
      const page = await port.recentMessages(conversationId, { limit: pageSize, ...(beforeSeq !== undefined ? { beforeSeq } : {}) });
      for (let i = page.messages.length - 1; i >= 0; i--) yield page.messages[i]!;
      if (!page.hasOlder || page.messages.length === 0) return;
      beforeSeq = page.messages[0]!.seq;
    }
  }
}
