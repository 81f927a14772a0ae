import { HuiliuError, zodDetails } from '../../../common/errors/codes';
import { InboundDraftSchema, type InboundDraft } from '../../../common/message/envelope';
import { normalizeName } from '../../../common/text/text';
import type { Bus } from '../bus/bus';
import { customerMerged, newEvent, sessionFacts } from '../bus/events';
import type { Metrics } from '../metrics/metrics';
import type { InboundResult, SessionStore } from '../sessions/store';

/** Longest customer name a channel can give (ChannelIdentitySchema's bound). */
const DISPLAY_NAME_MAX = 128;

/**
 * The one path every channel's inbound message takes after `normalize` (DESIGN §1): check the draft,
 * store it durably (seq assigned, encrypted), then publish it. A duplicate is answered from the store
 * and not published again, so nothing shows twice.
 */
export class Ingest {
  /** Accepts under way: shutdown waits for them before it closes the bus (`idle`). */
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(
    private readonly store: SessionStore,
    private readonly bus: Bus,
    /** Issue 16: counts each stored, non-duplicate message in `huiliu_channel_messages_total{channel}`. */
    private readonly metrics?: Pick<Metrics, 'channelMessages'>,
  ) {}

  /**
   * Stores one normalised inbound message and publishes `message.in` unless it is a duplicate.
   *
   * @param draft what a channel adapter's `normalize` produced; validated here with
   *   `InboundDraftSchema` (common/message/envelope.ts) whatever the adapter checked before, so no
   *   channel can store a message another channel could not
   * @param skillGroup the skill group a new session opens in
   * @param options.beforePublish runs after the message is stored and before `message.in` is
   *   published, also for a duplicate (which is not published): what the message refers to is stored
   *   here (an image's bytes), so no consumer sees the message before it; must be idempotent. Its
   *   error fails the accept, unpublished (the sender's retry is a duplicate that runs it again).
   * @throws HuiliuError VALIDATION_FAILED (details name the draft's fields, never their values) for a
   *   draft that breaks the schema; the store's errors (IDEMPOTENCY_CONFLICT …) as they are
   */
  accept(
    draft: InboundDraft,
    skillGroup: string,
    options: { beforePublish?: (result: InboundResult) => Promise<void> } = {},
  ): Promise<InboundResult> {
    const work = this.storeAndPublish(draft, skillGroup, options.beforePublish);
    this.inFlight.add(work);
    const done = () => void this.inFlight.delete(work);
    work.then(done, done);
    return work;
  }

  /**
   * Resolves when every accept under way has stored and published (or failed). Shutdown calls it after
   * the listeners closed and before the bus closes, so a message stored during shutdown is also
   * published, instead of being stored, unanswered and unannounced.
   */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  private async storeAndPublish(
    draft: InboundDraft,
    skillGroup: string,
    beforePublish?: (result: InboundResult) => Promise<void>,
  ): Promise<InboundResult> {
    const parsed = InboundDraftSchema.safeParse(draft);
    if (!parsed.success) throw new HuiliuError('VALIDATION_FAILED', 'The inbound message is not valid.', zodDetails(parsed.error));
    // Every channel's name for the customer is cleaned alike (bidi overrides and control characters
    // out, invisible names dropped): an XMPP nick can no more reverse a name on staff screens than an
    // app's `customer.name` can (issue 12 review).
    const { displayName, ...identity } = parsed.data.identity;
    const name = normalizeName(displayName, DISPLAY_NAME_MAX).value;
    const clean: InboundDraft = { ...parsed.data, identity: { ...identity, ...(name ? { displayName: name } : {}) } };
    const result = await this.store.appendInbound(clean, { skillGroup });
    await beforePublish?.(result);
    if (!result.duplicate) {
      const { envelope, session, newSession, moved, merges } = result;
      this.metrics?.channelMessages.inc({ channel: session.channel });
      // Issue 12: a verified link this message carried merged two customers (the audit record) …
      for (const m of merges) await this.bus.publish(customerMerged(m, 'system', false));
      // … and the customer went on from another channel: the old session closed, this one carries on.
      if (moved) {
        await this.bus.publish(
          newEvent('session.changed', {
            actor: 'customer',
            sessionId: moved.id,
            conversationId: moved.conversationId,
            payload: {
              ...sessionFacts(moved),
              offeredAgentId: null,
              reason: 'moved',
              movedTo: session.id,
              // A pending offer of the old session is gone: the agent it was offered to drops it now.
              ...(moved.offeredAgentId ? { offerWithdrawnFrom: moved.offeredAgentId } : {}),
            },
          }),
        );
        await this.bus.publish(
          newEvent('session.changed', {
            actor: 'customer',
            sessionId: session.id,
            conversationId: session.conversationId,
            payload: { ...sessionFacts(session), reason: 'moved', movedFrom: moved.id },
          }),
        );
      }
      // The store keeps a name the channel gave (an empty one changes nothing): consumers get it
      // with the message instead of reading and decrypting the customer.
      const customerName = clean.identity.displayName || undefined;
      await this.bus.publish(
        newEvent('message.in', {
          actor: 'customer',
          sessionId: envelope.sessionId,
          conversationId: envelope.conversationId,
          payload: {
            envelope,
            newSession,
            session: sessionFacts(session),
            ...(customerName ? { customerName } : {}),
            ...(moved ? { movedFrom: moved.id } : {}),
          },
        }),
      );
    }
    return result;
  }
}
