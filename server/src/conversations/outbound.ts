import type { AuthorKind } from '../../../common/ai/assist';
import type { Envelope } from '../../../common/message/envelope';
import type { Bus } from '../bus/bus';
import { newEvent, sessionFacts } from '../bus/events';
import type { SessionRecord, SessionStore } from '../sessions/store';

/** One text to a customer from staff, the AI or the system. */
export interface OutboundText {
  /** Who the `message.out` event names: a staff user id, `ai` or `system`. */
  actor: string;
  /** The staff user who wrote it; null for the AI and the system. */
  authorId: string | null;
  authorKind: Exclude<AuthorKind, 'customer'>;
  /** The idempotency key: the same id again answers the stored message and sends nothing. */
  clientMessageId: string;
  text: string;
  /** Scalar facts kept sealed with the message (the AI tier's turn). */
  meta?: Envelope['meta'];
}

/**
 * Stores one text message in `session` (durable before anything is sent) and hands it to the
 * customer's channel with `message.out`, once: a repeated `clientMessageId` answers the stored
 * message with `duplicate: true` and publishes nothing. The one outbound path of agents' replies,
 * the AI tier's answers and the system's notices. Store errors (SESSION_CLOSED, IDEMPOTENCY_CONFLICT)
 * propagate.
 */
export async function sendText(
  ports: { store: Pick<SessionStore, 'appendOutbound'>; bus: Pick<Bus, 'publish'>; now?: () => number },
  session: SessionRecord,
  input: OutboundText,
): Promise<{ envelope: Envelope; duplicate: boolean }> {
  const stored = await ports.store.appendOutbound({
    sessionId: session.id,
    authorId: input.authorId,
    authorKind: input.authorKind,
    clientMessageId: input.clientMessageId,
    content: { kind: 'text', body: { text: input.text } },
    critical: true,
    ...(input.meta ? { meta: input.meta } : {}),
  });
  if (stored.duplicate) return stored;
  const { envelope } = stored;
  await ports.bus.publish(
    newEvent(
      'message.out',
      {
        actor: input.actor,
        sessionId: session.id,
        conversationId: envelope.conversationId,
        payload: { envelope, session: sessionFacts(session) },
      },
      ports.now,
    ),
  );
  return stored;
}
