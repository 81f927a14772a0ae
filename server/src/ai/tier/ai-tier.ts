import { isStaffOnly, type Envelope } from '../../../../common/message/envelope';
import type { Analysis, Lang } from '../../../../common/ai/types';
import { emotionText } from '../../sessions/views';
import { fillPlaceholders, hasPlaceholders, usableName } from '../assist/adapt';
import { extractDetailsAll } from '../assist/entities';
import type { EventOf } from '../../../../common/events/events';
import { detectLang } from '../text';
import type { Bus, Subscription } from '../../bus/bus';
import { aiActed } from '../../bus/events';
import { sendText } from '../../conversations/outbound';
import type { AutoAnswerConfig } from '../../config/config';
import type { ConversationService } from '../../conversations/service';
import type { Logger } from '../../logging/logger';
import type { Metrics } from '../../metrics/metrics';
import type { SessionRecord, SessionStore } from '../../sessions/store';
import { decideTurn, type AiTurnKind, type AnswerBook, type PastTurn, type TurnDecision } from './decide';
import { phrases } from './phrases';

export interface AiTierDeps {
  store: SessionStore;
  bus: Bus;
  /** The language core (issue 9): `ready` once an intent model is loaded. */
  core: { readonly ready: boolean; analyze(text: string, options?: { channel?: string }): Analysis };
  book: AnswerBook;
  /** The hand-over use case: the AI tier hands over through it like any other caller. */
  conversations: Pick<ConversationService, 'handOver'>;
  config: AutoAnswerConfig;
  logger: Logger;
  now?: () => number;
  /** Issue 16: turns by action and their duration (`huiliu_ai_turns_total`, `huiliu_ai_turn_seconds`). */
  metrics?: Pick<Metrics, 'aiTurns' | 'aiTurnSeconds'>;
}

export interface AiTier {
  /** Subscribes (a work consumer: one node answers each turn) and answers contacts left waiting by a restart. */
  start(): Promise<void>;
  /**
   * Answers the session's customer messages that came after its last reply, if the session is with
   * the AI (`bot`); does nothing otherwise. Turns of one session run one at a time, in order; a turn
   * is idempotent (its reply's id is derived from the message it answers), so a redelivered event
   * sends nothing twice.
   */
  takeTurn(sessionId: string): Promise<void>;
  /** Waits for turns in progress. */
  idle(): Promise<void>;
  stop(): Promise<void>;
}

/** How many of the newest messages a turn reads: the AI's memory of the conversation. */
const MEMORY = 60;
const TURN_KINDS = new Set<string>(['answer', 'clarify', 'repeat', 'greet', 'thanks']);

/**
 * The AI tier (DESIGN §5 `ai`, issue 10): answers contacts with status `bot` from the knowledge base,
 * asks one clarifying question when two intents are close, and hands over to a person (the
 * conversations' `handOver`) by the rules of `decideTurn`. Every AI message is stored with
 * `authorKind: 'ai'` and its turn in `meta` (`aiTurn`, `aiIntent`, `aiEntry`), sent on the customer's
 * channel through `message.out`, and announced as an `ai.acted` event for the audit log.
 * A failure to answer (no model, an error) hands over with `ai-unavailable`: never a dead end.
 */
export function createAiTier(deps: AiTierDeps): AiTier {
  const now = deps.now ?? Date.now;
  const log = deps.logger.child({ component: 'ai-tier' });
  const subs: Subscription[] = [];
  /** The running turn of each session: the next waits for it (customer messages answered in order). */
  const running = new Map<string, Promise<void>>();
  let stopped = false;

  async function say(session: SessionRecord, replyTo: Envelope, text: string, turn: AiTurnKind, extra: Record<string, string> = {}) {
    const { envelope, duplicate } = await sendText(deps, session, {
      actor: 'ai',
      authorId: null,
      authorKind: 'ai',
      clientMessageId: `ai:${replyTo.id}`,
      text,
      meta: { aiTurn: turn, ...extra },
    });
    return duplicate ? null : envelope;
  }

  async function acted(session: SessionRecord, payload: Omit<EventOf<'ai.acted'>['payload'], 'session'>) {
    await deps.bus.publish(aiActed(session, 'ai', payload, now));
  }

  /**
   * A KB answer's placeholders (`{{name}}`, `{{order}}`, `{{tracking}}`; docs/ai.md) filled with the
   * customer's name and the numbers in their messages; one without a value is left out, never sent as
   * `{{…}}`. An answer without placeholders is sent as written.
   */
  async function personalize(session: SessionRecord, own: readonly Envelope[], answer: string, lang: Lang): Promise<string> {
    if (!hasPlaceholders(answer)) return answer;
    const customer = await deps.store.getCustomer(session.customerId);
    const said = own.filter((m) => m.direction === 'in').map((m) => emotionText(m) ?? '');
    return fillPlaceholders(answer, {
      name: usableName(customer?.name),
      agentName: null,
      details: extractDetailsAll(said.reverse()),
      lang,
    });
  }

  /** One turn, counted by what it did (none when there was nothing to answer). */
  async function turn(sessionId: string): Promise<void> {
    const started = performance.now();
    const action = await act(sessionId);
    if (!action) return;
    deps.metrics?.aiTurns.inc({ action });
    deps.metrics?.aiTurnSeconds.observe({ action }, (performance.now() - started) / 1000);
  }

  /** Answers, asks or hands over; says which (`TurnDecision['action']`), or null when it did nothing. */
  async function act(sessionId: string): Promise<TurnDecision['action'] | null> {
    if (stopped) return null;
    const session = await deps.store.getSession(sessionId);
    if (session?.status !== 'bot') return null;
    const { messages } = await deps.store.recentMessages(session.conversationId, { limit: MEMORY });
    // Staff-only messages (internal notes, transfer records) are no turn of the customer's conversation.
    const own = messages.filter((m) => m.sessionId === session.id && !isStaffOnly(m));
    // The customer's messages since the last reply: answered together, as one turn.
    let first = own.length;
    while (first > 0 && own[first - 1]!.direction === 'in') first--;
    const pending = own.slice(first);
    const replyTo = pending.at(-1);
    if (!replyTo) return null;
    // The customer's words: text, a caption, a transcript. A picture or file alone is not something the
    // AI can answer (its '[image]' rendering would read as a question): a person looks at it.
    const words = pending.map((m) => emotionText(m)).filter((t): t is string => t !== null && t.trim() !== '');
    const text = words.join('\n');
    const turns: PastTurn[] = own
      .filter((m) => m.authorKind === 'ai' && TURN_KINDS.has(String(m.meta['aiTurn'])))
      .map((m) => ({ kind: m.meta['aiTurn'] as AiTurnKind, intent: typeof m.meta['aiIntent'] === 'string' ? m.meta['aiIntent'] : null }));

    let decision: TurnDecision;
    if (!deps.core.ready) {
      decision = { action: 'handover', reason: 'ai-unavailable', intent: null, confidence: null };
    } else if (!text) {
      decision = { action: 'handover', reason: 'low-confidence', intent: null, confidence: null };
    } else {
      const analysis = deps.core.analyze(text, { channel: session.channel });
      decision = decideTurn({ text, analysis, state: { turns }, book: deps.book, config: deps.config });
    }
    switch (decision.action) {
      case 'answer':
      case 'repeat': {
        const { answer } = decision;
        const filled = await personalize(session, own, answer.answer, answer.lang);
        const body = decision.action === 'repeat' ? phrases.repeat(filled, answer.lang) : filled;
        const sent = await say(session, replyTo, body, decision.action, { aiIntent: answer.intent, aiEntry: answer.entryId });
        if (sent)
          await acted(session, {
            action: 'answered',
            messageId: sent.id,
            intent: answer.intent,
            confidence: decision.confidence,
            entryId: answer.entryId,
          });
        return decision.action;
      }
      case 'clarify': {
        const [a, b] = decision.options;
        const sent = await say(session, replyTo, phrases.clarify(a.title, b.title, a.lang), 'clarify', {
          aiIntent: `${a.intent}|${b.intent}`,
        });
        if (sent) await acted(session, { action: 'clarified', messageId: sent.id, candidates: [a.intent, b.intent] });
        return decision.action;
      }
      case 'small-talk': {
        await say(session, replyTo, phrases.smallTalk(decision.kind, detectLang(text)), decision.kind === 'greeting' ? 'greet' : 'thanks');
        return decision.action;
      }
      case 'handover':
        await deps.conversations.handOver({
          sessionId: session.id,
          reason: decision.reason,
          by: 'ai',
          intent: decision.intent,
          confidence: decision.confidence,
        });
        return decision.action;
    }
  }

  const tier: AiTier = {
    async start() {
      subs.push(
        // A contact the router just gave to the AI: its first message(s).
        await deps.bus.subscribe('session.changed', 'ai-tier', async ({ sessionId, payload }) => {
          if (payload.status === 'bot') await tier.takeTurn(sessionId);
        }),
        // Every later customer message of a contact with the AI (the store says whether it still is).
        await deps.bus.subscribe('message.in', 'ai-tier', async ({ sessionId, payload }) => {
          if (!payload.newSession && payload.session.status === 'bot') await tier.takeTurn(sessionId);
        }),
      );
      // After a restart: contacts with the AI whose customer spoke last get their answer now.
      for (const s of await deps.store.listSessions({ status: ['bot'], limit: 5000 })) await tier.takeTurn(s.id);
    },

    takeTurn(sessionId) {
      const previous = running.get(sessionId) ?? Promise.resolve();
      const next = previous
        .then(() => turn(sessionId))
        .catch(async (error: unknown) => {
          log.error({ err: error, sessionId }, 'AI turn failed; handing over');
          deps.metrics?.aiTurns.inc({ action: 'failed' });
          // Never a dead end: a turn that fails hands the customer to a person.
          await deps.conversations
            .handOver({ sessionId, reason: 'ai-unavailable', by: 'ai' })
            .catch((e: unknown) => log.error({ err: e, sessionId }, 'hand-over after a failed AI turn failed'));
        })
        .finally(() => {
          if (running.get(sessionId) === next) running.delete(sessionId);
        });
      running.set(sessionId, next);
      return next;
    },

    async idle() {
      while (running.size) await Promise.all(running.values());
    },

    async stop() {
      stopped = true;
      await Promise.all(subs.map((s) => s.unsubscribe()));
      await tier.idle();
    },
  };
  return tier;
}
