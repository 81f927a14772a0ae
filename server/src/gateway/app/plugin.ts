import type { FastifyInstance, FastifyRequest } from 'fastify';
import { HuiliuError } from '../../../../common/errors/codes';
import { AppCsatRequestSchema, type CsatReceipt } from '../../../../common/api/customers';
import {
  AppMessageRequestSchema,
  AppMessagesQuerySchema,
  AppHandoverRequestSchema,
  cleanAppMessage,
  type AppHandoverResponse,
  type AppMessageResponse,
  type AppMessagesResponse,
} from '../../../../common/api/app-channel';
import { MAX_TEXT_LENGTH, authorOf, isStaffOnly, textOf } from '../../../../common/message/envelope';
import type { QueueStanding } from '../../../../common/ai/assist';
import { createHash } from 'node:crypto';
import type { AttachmentStore } from '../../attachments/store';
import { csatState, rateConversation } from '../../customers/csat';
import type { CsatSurveyor } from '../csat-survey';
import { checkImage } from '../../attachments/image';
import type { ServerConfig } from '../../config/config';
import { countChannelRejections, parseWith } from '../../http/errors';
import { clientNetwork } from '../../http/client-network';
import { rateLimitedError, type Limits } from '../../http/limits';
import type { SessionStore } from '../../sessions/store';
import type { ChannelAdapters } from '../channel-adapter';
import type { ChannelAccount, ChannelStore } from '../channels';
import type { Ingest } from '../ingest';
import { createAppChannelAdapter } from './adapter';
import type { AppWebhooks } from './webhooks';
import type { AppKeyStore } from './app-keys.sqlite';
import { fetchFailureReason, fetchImage } from './image-url';
import type { Metrics } from '../../metrics/metrics';
import type { AppMessageWarning } from '../../../../common/api/app-channel';
import { appExternalId, normalizeAppMessage, type AppImage } from './normalize';

declare module 'fastify' {
  interface FastifyRequest {
    /** The account the request's X-Huiliu-Key opens, looked up once by the app channel's preHandler. */
    appAccount: ChannelAccount | null;
  }
}

/** The host of a URL for the "[image]" note (the path and query may carry the app's tokens). */
const urlHost = (raw: string): string => {
  try {
    return new URL(raw).host;
  } catch {
    return 'invalid URL';
  }
};

/**
 * The app / HTTP channel (`AP`, DESIGN §6): `POST /api/v1/channels/app/messages` for the customer's
 * messages, and `GET` of the same path for the app to fetch the replies (poll with `afterSeq`).
 * Keys are channel accounts in the channels store; the channel's adapter joins `adapters` so the
 * outbound dispatcher records its replies.
 */
export async function appChannelPlugin(
  app: FastifyInstance,
  opts: {
    channels: ChannelStore;
    adapters: ChannelAdapters;
    ingest: Ingest;
    store: SessionStore;
    config: ServerConfig;
    limits: Limits;
    /** The hand-over use case (issue 10); absent: `POST …/handover` answers FORBIDDEN. */
    handOver?: (sessionId: string) => Promise<{ session: { status: AppHandoverResponse['status'] }; standing: QueueStanding | null }>;
    /** Where a waiting session stands in its queue (issue 11): the GET poll answers it. Absent: `standing` is null. */
    standing?: (sessionId: string) => Promise<QueueStanding>;
    /**
     * Where images are stored (issue 10); without it a message with an image is refused
     * UNSUPPORTED_MEDIA_TYPE. `ocr`: whether OCR will read them (their OCR status starts `pending`).
     */
    attachments?: { store: AttachmentStore; ocr: boolean };
    /** The outbound webhooks (issue 13); absent: apps only poll. */
    webhooks?: AppWebhooks;
    /** Keys admins issue (issue 13); absent: only the channels store's (config) keys open. */
    appKeys?: AppKeyStore;
    /** Issue 15: the CSAT surveys; a surveyed session's rating after its window is CSAT_WINDOW_EXPIRED. */
    csat?: Pick<CsatSurveyor, 'checkWindow'>;
    /** `huiliu_channel_media_failed_total` for images by URL that were refused or failed. */
    metrics?: Metrics;
    now?: () => number;
  },
): Promise<void> {
  // What this channel refuses is counted and logged by code (review of issue 13), like WX and XM.
  countChannelRejections(app, 'AP', opts.metrics);
  // Budgets before anything is parsed further or stored (issue 6 A3): wrong keys per client address
  // (key guessing), posts per app key and per app customer, reads per app key. The handler answers
  // a bad key or body with its own errors. The key is looked up here once per request; the
  // handlers read `request.appAccount`.
  app.decorateRequest('appAccount', null);
  app.addHook('preHandler', async (request) => {
    const client = clientNetwork(request.ip);
    // An address out of wrong-key budget is refused before any key is looked up: otherwise a
    // guesser could still tell a right key (answered) from a wrong one (refused).
    const guessing = await opts.limits.spent('ip_bad_app_keys', client);
    if (!guessing.ok) throw rateLimitedError(guessing);
    const raw = request.headers['x-huiliu-key'];
    const presented = typeof raw === 'string' ? raw : undefined;
    const key = opts.appKeys
      ? ((await opts.appKeys.accountByKey(presented))?.account ?? null)
      : await opts.channels.accountByKey('AP', presented);
    request.appAccount = key;
    let verdict;
    if (!key) {
      verdict = await opts.limits.take([['ip_bad_app_keys', client]]);
    } else if (request.method === 'POST') {
      // The customer a message (`customer.externalId`) or a rating (`externalId`) is from.
      const body = request.body as { customer?: { externalId?: unknown }; externalId?: unknown } | null;
      const externalId = body?.customer?.externalId ?? body?.externalId;
      verdict = await opts.limits.take([
        ['app_key_messages', key.accountId],
        ...(typeof externalId === 'string' ? [['app_customer_messages', JSON.stringify([key.accountId, externalId])] as const] : []),
      ]);
    } else {
      verdict = await opts.limits.take([['app_key_reads', key.accountId]]);
    }
    if (!verdict.ok) throw rateLimitedError(verdict);
  });

  const groups = new Set(opts.config.skillGroups.map((g) => g.id));
  const now = opts.now ?? Date.now;
  opts.adapters.register(createAppChannelAdapter(opts.webhooks));
  const appKey = (request: FastifyRequest) => {
    if (!request.appAccount) throw new HuiliuError('INVALID_APP_KEY');
    return request.appAccount;
  };

  const imageLimits = { maxBytes: opts.config.attachments.maxImageBytes, maxPixels: opts.config.attachments.maxImagePixels };
  // An image travels as base64 in the JSON body (4/3 of its size), beside the rest of the message.
  const bodyLimit = Math.max(1024 * 1024, Math.ceil((imageLimits.maxBytes * 4) / 3) + 64 * 1024);

  app.post('/api/v1/channels/app/messages', { config: { policy: 'channel-key' }, bodyLimit }, async (request, reply) => {
    const key = appKey(request);
    // Only externalId, text, image and clientMessageId can refuse the message; bad optional metadata is
    // dropped or cut and reported in `warnings` so the customer's text is never lost over it (C11).
    const cleaned = cleanAppMessage(parseWith(AppMessageRequestSchema, request.body), (g) => groups.has(g));
    let body = cleaned.request;
    const warnings: AppMessageWarning[] = cleaned.warnings;
    // The channel default is checked against the groups at start; a key's group may have gone since.
    const keyGroup = key.skillGroup && groups.has(key.skillGroup) ? key.skillGroup : null;
    const skillGroup = body.hints?.skillGroup ?? keyGroup ?? opts.config.channels.app.defaultSkillGroup;
    const externalId = appExternalId(key.accountId, body.customer.externalId);
    // Issue 10: an image is checked (type by its bytes, size, pixels) before anything is stored, and
    // stored sealed before its message is published, so OCR and staff never see a message without it.
    let image: (AppImage & { checked: ReturnType<typeof checkImage> }) | undefined;
    // An image by URL: what is stored depends on the fetch (the image, or "[image] host" when it
    // failed), so a retry is recognised by the request itself — the same text and URL under the same
    // clientMessageId is the same message, answered as the first time (review of issue 13).
    const idempotencyContent =
      body.image && 'url' in body.image ? JSON.stringify({ text: body.text ?? null, imageUrl: body.image.url }) : undefined;
    if (body.image) {
      if (!opts.attachments) throw new HuiliuError('UNSUPPORTED_MEDIA_TYPE', 'This server does not accept images.');
      let checked: ReturnType<typeof checkImage> | null;
      if ('url' in body.image) {
        // Issue 13: fetched by the server. A URL the rules refuse is the app's error: refused, nothing
        // stored. A fetch that fails (the app's host down, a 404, too large, not an image) keeps the
        // customer's message: its text, with "[image]" and the URL's host, and a warning.
        const host = urlHost(body.image.url);
        try {
          checked = await fetchImage(body.image.url, { limits: imageLimits, ...opts.config.channels.app.imageUrls });
        } catch (error) {
          if (!(error instanceof HuiliuError)) throw error;
          if (error.code === 'IMAGE_URL_REFUSED') {
            opts.metrics?.channelMediaFailed.inc({ channel: 'AP', reason: 'url_refused' });
            throw error;
          }
          if (error.code !== 'IMAGE_FETCH_FAILED') throw error;
          opts.metrics?.channelMediaFailed.inc({ channel: 'AP', reason: fetchFailureReason(error) });
          warnings.push({ field: 'image.url', code: 'IMAGE_FETCH_FAILED', message: error.message });
          const note = `[image] ${host}`;
          const { image: _dropped, ...rest } = body;
          // The customer's own text is never cut for the note: at the length limit it goes without it.
          const withNote = body.text !== undefined ? `${body.text}\n${note}` : note;
          body = { ...rest, text: withNote.length <= MAX_TEXT_LENGTH ? withNote : body.text! };
          checked = null;
        }
      } else checked = checkImage(body.image, imageLimits);
      if (checked) {
        const digest = createHash('sha256').update(checked.bytes).digest('hex');
        // The same message retried gets the same id: its stored content, and so its idempotency, hold.
        const attachmentId = opts.attachments.store.idFor('AP', externalId, body.clientMessageId, digest);
        image = { attachmentId, mime: checked.mime, size: checked.size, checked };
      }
    }
    const attachments = opts.attachments;
    const attributes = body.customer.attributes;
    const draft = {
      ...normalizeAppMessage(body, key.accountId, new Date(now()), image, {
        mergeOnVerified: key.settings['mergeOnVerified'] === true,
      }),
      ...(idempotencyContent !== undefined ? { idempotencyContent } : {}),
    };
    const result = await opts.ingest.accept(draft, skillGroup, {
      beforePublish: async ({ envelope, duplicate }) => {
        // A retry of a message stored without this image (its first fetch failed) keeps it that way.
        const holdsImage = envelope.kind === 'image' && envelope.body.attachmentId === image?.attachmentId;
        if (image && attachments && holdsImage) {
          const { checked, attachmentId } = image;
          await attachments.store.put({
            id: attachmentId,
            customerId: envelope.customerId,
            sessionId: envelope.sessionId,
            conversationId: envelope.conversationId,
            messageId: envelope.id,
            mime: checked.mime,
            bytes: checked.bytes,
            width: checked.width,
            height: checked.height,
            ocr: attachments.ocr ? 'pending' : 'skipped',
          });
        }
        // Issue 11: the customer's value facts, stored before the message is published, so the router
        // scoring this message's new session reads them. A retried (duplicate) message does not set
        // them again: a newer message's values would be put back to older ones.
        if (attributes && !duplicate) {
          await opts.store.putCustomerFacts([{ customerId: envelope.customerId, ...attributes, source: 'app' }]);
        }
      },
    });
    // The answer describes the stored message: for a retry, what the first try stored (its image, or
    // the "[image] host" note and the fetch warning), whatever this try's fetch gave.
    const stored = result.envelope;
    const storedImage = stored.kind === 'image' ? stored.body.attachmentId : undefined;
    const answerWarnings =
      result.duplicate && idempotencyContent !== undefined
        ? [
            ...warnings.filter((w) => w.code !== 'IMAGE_FETCH_FAILED'),
            ...(storedImage
              ? []
              : [
                  {
                    field: 'image.url',
                    code: 'IMAGE_FETCH_FAILED' as const,
                    message: 'The image could not be fetched when this message was first received.',
                  },
                ]),
          ]
        : warnings;
    const answer: AppMessageResponse = {
      sessionId: result.session.id,
      conversationId: stored.conversationId,
      messageId: stored.id,
      seq: stored.seq,
      ...(storedImage ? { attachmentId: storedImage } : {}),
      warnings: answerWarnings,
    };
    return reply.status(202).send(answer);
  });

  app.post('/api/v1/channels/app/handover', { config: { policy: 'channel-key' } }, async (request): Promise<AppHandoverResponse> => {
    const key = appKey(request);
    const { customer: who } = parseWith(AppHandoverRequestSchema, request.body);
    const customer = await opts.store.findCustomerByIdentity('AP', appExternalId(key.accountId, who.externalId));
    const session = customer ? await opts.store.latestSession(customer.id, 'AP') : null;
    if (!session || session.status === 'closed')
      throw new HuiliuError('SESSION_NOT_FOUND', 'The customer has no open conversation: send their message first.');
    if (!opts.handOver) throw new HuiliuError('FORBIDDEN', 'Hand-over is not available on this server.');
    const result = await opts.handOver(session.id);
    return { sessionId: session.id, status: result.session.status, standing: result.standing };
  });

  /**
   * Issue 11: the customer rates their closed conversation, 1..5 with an optional comment, once.
   * 201 `CsatReceipt`; VALIDATION_FAILED (the field named), SESSION_NOT_FOUND (unknown, or not this
   * app customer's), SESSION_NOT_CLOSED, CSAT_ALREADY_GIVEN, CSAT_WINDOW_EXPIRED (issue 15: the
   * session was surveyed with `conversation.csat_requested` and its `expiresAt` has passed).
   */
  app.post('/api/v1/channels/app/csat', { config: { policy: 'channel-key' } }, async (request, reply) => {
    const key = appKey(request);
    const body = parseWith(AppCsatRequestSchema, request.body);
    const customer = await opts.store.findCustomerByIdentity('AP', appExternalId(key.accountId, body.externalId));
    // Only for a session of this app's customer: another's learns nothing of its survey.
    const session = customer ? await opts.store.getSession(body.sessionId) : null;
    if (session && session.customerId === customer!.id && session.channel === 'AP') opts.csat?.checkWindow(session.id);
    const receipt: CsatReceipt = await rateConversation(opts.store, {
      customerId: customer?.id ?? null,
      channel: 'AP',
      sessionId: body.sessionId,
      score: body.score,
      comment: body.comment,
    });
    return reply.status(201).send(receipt);
  });

  app.get('/api/v1/channels/app/messages', { config: { policy: 'channel-key' } }, async (request): Promise<AppMessagesResponse> => {
    const key = appKey(request);
    const q = parseWith(AppMessagesQuerySchema, request.query);
    const customer = await opts.store.findCustomerByIdentity('AP', appExternalId(key.accountId, q.externalId));
    const session = customer ? await opts.store.latestSession(customer.id, 'AP') : null;
    if (!session) return { sessionId: null, conversationId: null, status: null, messages: [], standing: null, csat: null };
    const afterSeq = q.conversationId === session.conversationId ? q.afterSeq : 0;
    const waiting = session.status === 'queued' || session.status === 'offered';
    const [messages, standing, csat] = await Promise.all([
      opts.store
        // An app reads its own customer's messages only: in a conversation the customer continued from
        // another channel (issue 12), not what another identity of the person said or was told there
        // (filtered in the query, so `limit` counts these). Staff-only records (a transfer) neither.
        .listMessages(session.conversationId, { afterSeq, limit: q.limit, customerId: session.customerId })
        .then((all) => all.filter((m) => !isStaffOnly(m))),
      // Where they stand is a courtesy: a failure to work it out does not fail the poll.
      waiting && opts.standing ? opts.standing(session.id).catch(() => null) : null,
      csatState(opts.store, session),
    ]);
    return {
      sessionId: session.id,
      conversationId: session.conversationId,
      status: session.status,
      standing,
      csat,
      messages: messages.map((m) => ({
        id: m.id,
        seq: m.seq,
        direction: m.direction,
        author: authorOf(m),
        kind: m.kind,
        text: textOf(m),
        clientMessageId: m.clientMessageId,
        receivedAt: m.receivedAt,
        sentAt: m.sentAt,
      })),
    };
  });
}
