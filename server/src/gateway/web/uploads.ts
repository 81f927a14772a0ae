import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import type { Metrics } from '../../metrics/metrics';
import { idTokenSchema } from '../../../../common/text/text';
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { AttachmentIdSchema } from '../../../../common/api/attachments';
import { HuiliuError } from '../../../../common/errors/codes';
import type { Envelope, InboundDraft } from '../../../../common/message/envelope';
import {
  WIDGET_ATTACHMENT_PATH,
  WIDGET_UPLOAD_PATH,
  type WidgetAttachment,
  type WidgetMessage,
  type WidgetServerFrame,
} from '../../../../common/web/widget-protocol';
import { ATTACHMENT_CSP } from '../../attachments/plugin';
import { checkUpload, cleanFileName } from '../../attachments/files';
import { isImageMime, type AttachmentStore } from '../../attachments/store';
import type { ServerConfig } from '../../config/config';
import { countChannelRejections, parseWith } from '../../http/errors';
import { rateLimitedError, type Limits } from '../../http/limits';
import type { Logger } from '../../logging/logger';
import type { SessionStore } from '../../sessions/store';
import type { Ingest } from '../ingest';
import { visitorExternalId, visitorTag } from './normalize';
import { nextSkillGroup, type WidgetStateStore } from './state';
import type { VisitorTokens } from './visitor-token';
import { authorOf, textOf } from '../../../../common/message/envelope';

/** How long a signed attachment link works (ms): links are signed afresh with every replay and push. */
export const ATTACHMENT_LINK_TTL_MS = 60 * 60 * 1000;
/** Expiries are rounded up to this step (ms), so a link is the same for a while and the browser's copy is reused. */
const LINK_STEP_MS = 5 * 60 * 1000;
/** The MAC purpose of attachment links (VisitorTokens.mac). */
const LINK_PURPOSE = 'widget-attachment';

/**
 * Signed, expiring links to attachments for widget visitors (issue 13). A link is
 * `/channels/web/attachments/<id>?exp=<unix seconds>&sig=<tag>`, the tag an HMAC-SHA256 (under the
 * server's visitor-token secret, its own purpose) of the id, the attachment's customer and the expiry:
 * only a tab of that customer was ever given it, nobody can make one for another customer's file, and
 * it stops working at `exp`. It carries no visitor token or id, so a leaked link opens one file for
 * at most an hour.
 */
export interface AttachmentLinks {
  /** The widget's view of a message's attachment for a tab of `customerId`, with a fresh link; undefined when none (or not theirs). */
  attachmentOf(envelope: Envelope, customerId: string): Promise<WidgetAttachment | undefined>;
  /** A link to attachment `id` of `customerId`. */
  urlFor(id: string, customerId: string): string;
  /** Whether `sig` is the tag of (`id`, `customerId`, `exp`). */
  check(id: string, customerId: string, exp: number, sig: string): boolean;
}

export function createAttachmentLinks(deps: {
  attachments: AttachmentStore;
  visitorTokens: VisitorTokens;
  now?: () => number;
}): AttachmentLinks {
  const now = deps.now ?? Date.now;
  const data = (id: string, customerId: string, exp: number) => `${id}.${customerId}.${exp}`;
  const urlFor = (id: string, customerId: string) => {
    const exp = Math.ceil((now() + ATTACHMENT_LINK_TTL_MS) / LINK_STEP_MS) * (LINK_STEP_MS / 1000);
    return `${WIDGET_ATTACHMENT_PATH}/${id}?exp=${exp}&sig=${deps.visitorTokens.mac(LINK_PURPOSE, data(id, customerId, exp))}`;
  };
  return {
    urlFor,
    check: (id, customerId, exp, sig) => deps.visitorTokens.checkMac(LINK_PURPOSE, data(id, customerId, exp), sig),
    async attachmentOf(envelope, customerId) {
      if (envelope.kind !== 'image' && envelope.kind !== 'file') return undefined;
      const body = envelope.body as { attachmentId: string; name?: string };
      const record = await deps.attachments.get(body.attachmentId);
      if (!record || record.customerId !== customerId) return undefined;
      const name = (await deps.attachments.name(record.id)) ?? body.name ?? (isImageMime(record.mime) ? 'image' : 'file');
      return {
        id: record.id,
        kind: isImageMime(record.mime) ? 'image' : 'file',
        name,
        mime: record.mime,
        bytes: record.size,
        url: urlFor(record.id, customerId),
      };
    },
  };
}

export interface WidgetUploadsOptions {
  attachments: { store: AttachmentStore; ocr: boolean };
  links: AttachmentLinks;
  ingest: Ingest;
  store: SessionStore;
  state?: WidgetStateStore;
  config: ServerConfig;
  limits: Limits;
  visitorTokens: VisitorTokens;
  logger: Logger;
  metrics?: Metrics;
  now?: () => number;
}

const UploadQuerySchema = z.object({
  clientMessageId: idTokenSchema(8, 128),
  /** The file's name as the visitor's device gave it; cleaned before it is stored. */
  name: z.string().max(1024).optional(),
});
const LinkQuerySchema = z.object({
  exp: z.coerce
    .number()
    .int()
    .min(0)
    .max(2 ** 40),
  sig: z.string().regex(/^[A-Za-z0-9_-]{43}$/),
});

/** The visitor a request's `Authorization: Bearer <visitorToken>` names; UNAUTHENTICATED for none or a token we did not issue. */
function visitorOf(request: FastifyRequest, tokens: VisitorTokens): { token: string; externalId: string } {
  const m = /^Bearer ([^\s]+)$/.exec(request.headers.authorization ?? '');
  if (!m || !tokens.verify(m[1]!)) throw new HuiliuError('UNAUTHENTICATED', 'A visitor token is required.');
  return { token: m[1]!, externalId: visitorExternalId(m[1]!) };
}

/** A body that has not arrived whole after this long is given up (ms): 10 MiB at ~0.7 Mbit/s. */
export const UPLOAD_TOTAL_MS = 120_000;
/**
 * The window of the byte budgets (`widget.upload.visitorBytes` / `addressBytes`, review of issue 13:
 * the message budgets alone let 120 files of 10 MiB a minute through). Over budget: RATE_LIMITED.
 */
export const UPLOAD_BYTES_WINDOW_S = 600;

/**
 * Reads a request body up to `max` bytes; past it, stops reading (the connection is closed after the
 * answer) and throws UPLOAD_TOO_LARGE — an oversized body is never buffered whole. A body that stalls
 * (`idleMs` without a byte — config `widget.upload.idleMs` — or not whole after `totalMs`) or that the client cuts off throws
 * UPLOAD_INCOMPLETE (408): a phone losing signal is a client's event, not a server error.
 */
async function readBody(stream: Readable, max: number, idleMs: number, totalMs = UPLOAD_TOTAL_MS): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  let idle: ReturnType<typeof setTimeout> | undefined;
  // A stall ends the wait, not the socket: the 408 still reaches the client, and the connection is
  // closed after it (the rest of the body is never read).
  let stall = () => {};
  const stalled = new Promise<never>((_, reject) => {
    stall = () => {
      stream.pause();
      reject(new HuiliuError('UPLOAD_INCOMPLETE', 'The file stopped arriving.'));
    };
  });
  const total = setTimeout(stall, totalMs);
  idle = setTimeout(stall, idleMs);
  const read = (async () => {
    for await (const chunk of stream) {
      clearTimeout(idle);
      idle = setTimeout(stall, idleMs);
      const b = chunk as Buffer;
      size += b.length;
      if (size > max) {
        stream.pause();
        throw new HuiliuError('UPLOAD_TOO_LARGE');
      }
      chunks.push(b);
    }
    return Buffer.concat(chunks, size);
  })();
  try {
    return await Promise.race([read, stalled]);
  } catch (error) {
    if (error instanceof HuiliuError) throw error;
    // 'aborted' / ECONNRESET: the client went away mid-file.
    throw new HuiliuError('UPLOAD_INCOMPLETE');
  } finally {
    clearTimeout(idle);
    clearTimeout(total);
    // Whichever lost the race must not be an unhandled rejection.
    read.catch(() => {});
    stalled.catch(() => {});
  }
}

/**
 * The web widget's files (issue 13, docs/channels/web.md):
 * - `POST /channels/web/uploads?clientMessageId=&name=` with the raw file as the body, its
 *   Content-Type, and `Authorization: Bearer <visitorToken>`: checked (size as it streams in, type by
 *   magic bytes, no executables), stored sealed in the attachment store, and sent as the visitor's
 *   message through `Ingest` (kind `image`, which OCR reads when it is on, or `file`). 201
 *   `{ack, message}`; the visitor's tabs and the agent get the message like any other. Idempotent by
 *   clientMessageId (the same file again answers the first ack). Budgets: the visitor's and the
 *   address's message budgets.
 * - `GET /channels/web/attachments/:id?exp=&sig=`: an attachment of the visitor's conversation by a
 *   signed link (AttachmentLinks), with the staff route's safe headers; files that are no image are
 *   downloads only.
 */
export async function widgetUploadsPlugin(app: FastifyInstance, opts: WidgetUploadsOptions): Promise<void> {
  const upload = opts.config.widget.upload;
  const log = opts.logger.child({ component: 'gateway.web.uploads' });
  const now = opts.now ?? Date.now;
  const { store: attachments, ocr } = opts.attachments;
  const groups = new Set(opts.config.skillGroups.map((g) => g.id));
  const bytesPerVisitor = new RateLimiterMemory({
    points: upload?.visitorBytes ?? 1,
    duration: UPLOAD_BYTES_WINDOW_S,
    keyPrefix: 'upload-bytes-visitor',
  });
  const bytesPerAddress = new RateLimiterMemory({
    points: upload?.addressBytes ?? 1,
    duration: UPLOAD_BYTES_WINDOW_S,
    keyPrefix: 'upload-bytes-ip',
  });
  /** Takes `bytes` from both byte budgets, or throws RATE_LIMITED (nothing is stored). */
  async function takeBytes(visitorId: string, ip: string, bytes: number): Promise<void> {
    for (const [limiter, key, limit] of [
      [bytesPerVisitor, visitorId, 'visitor_upload_bytes'],
      [bytesPerAddress, ip, 'ip_upload_bytes'],
    ] as const) {
      try {
        await limiter.consume(key, bytes);
      } catch (refusal) {
        if (!(refusal instanceof RateLimiterRes)) throw refusal;
        const verdict = opts.limits.refuse(limit, Math.max(1, refusal.msBeforeNext));
        if (!verdict.ok) throw rateLimitedError(verdict);
      }
    }
  }

  if (upload) {
    await app.register(async (scope) => {
      // The body is the file itself, whatever its type: streamed to the handler, read with a bound there.
      countChannelRejections(scope, 'WB', opts.metrics);
      scope.removeAllContentTypeParsers();
      scope.addContentTypeParser('*', (_request, payload, done) => done(null, payload));
      scope.post(WIDGET_UPLOAD_PATH, { config: { policy: 'public' } }, async (request, reply) => {
        const visitor = visitorOf(request, opts.visitorTokens);
        const query = parseWith(UploadQuerySchema, request.query);
        const verdict = await opts.limits.take([
          ['visitor_messages', visitor.externalId],
          ['ip_messages', request.ip],
        ]);
        if (!verdict.ok) throw rateLimitedError(verdict);
        // The answer to an oversized file closes the connection: the rest of its body is never read.
        const declaredLength = Number(request.headers['content-length'] ?? 0);
        if (declaredLength > upload.maxBytes) {
          reply.header('Connection', 'close');
          throw new HuiliuError('UPLOAD_TOO_LARGE');
        }
        let bytes: Buffer;
        // Read once: after the client went away `request.ip` cannot be read any more.
        const ip = request.ip;
        // At most UPLOADS_PER_ADDRESS in flight per address (Limits, like the sockets' connection caps).
        const release = opts.limits.openConnection(ip, 'upload');
        if (!release) throw new HuiliuError('RATE_LIMITED', 'Too many files are being sent from this address at once.');
        try {
          bytes = request.body ? await readBody(request.body as Readable, upload.maxBytes, upload.idleMs) : Buffer.alloc(0);
        } catch (error) {
          if (error instanceof HuiliuError) {
            reply.header('Connection', 'close');
            log.info({ code: error.code }, 'widget upload not received');
          }
          throw error;
        } finally {
          release();
        }
        if (bytes.length === 0) throw new HuiliuError('VALIDATION_FAILED', 'The file is empty.');
        await takeBytes(visitor.externalId, ip, bytes.length);
        let checked;
        try {
          checked = checkUpload(bytes, request.headers['content-type'], upload.mimes);
        } catch (error) {
          if (error instanceof HuiliuError) log.info({ code: error.code, bytes: bytes.length }, 'widget upload refused');
          throw error;
        }
        if (checked.width * checked.height > opts.config.attachments.maxImagePixels)
          throw new HuiliuError('UPLOAD_TOO_LARGE', 'The image has too many pixels.');
        const name = cleanFileName(query.name);
        const digest = createHash('sha256').update(bytes).digest('hex');
        // The same file retried with the same clientMessageId gets the same id: the message's idempotency holds.
        const attachmentId = attachments.idFor('WB', visitor.externalId, query.clientMessageId, digest);
        const image = isImageMime(checked.mime);
        const customer = await opts.store.findCustomerByIdentity('WB', visitor.externalId);
        const skillGroup = await nextSkillGroup(opts.state, groups, opts.config.channels.web.defaultSkillGroup, customer?.id ?? null);
        const t = new Date(now()).toISOString();
        const draft: InboundDraft = {
          identity: { channel: 'WB', externalId: visitor.externalId },
          content: image
            ? { kind: 'image', body: { attachmentId, mime: checked.mime, size: bytes.length } }
            : { kind: 'file', body: { attachmentId, name, mime: checked.mime, size: bytes.length } },
          critical: true,
          clientMessageId: query.clientMessageId,
          sentAt: t,
          receivedAt: t,
          // The visitor's tabs that have no customer yet (this file is their first message) join by it.
          meta: { visitorTag: visitorTag(visitor.externalId) },
        };
        // Stored sealed before the message is published, so OCR, agents and other tabs never see it without its file.
        const result = await opts.ingest.accept(draft, skillGroup, {
          beforePublish: async ({ envelope }) => {
            await attachments.put({
              id: attachmentId,
              customerId: envelope.customerId,
              sessionId: envelope.sessionId,
              conversationId: envelope.conversationId,
              messageId: envelope.id,
              mime: checked.mime,
              bytes,
              width: checked.width,
              height: checked.height,
              ocr: image && ocr ? 'pending' : 'skipped',
              name,
            });
          },
        });
        const { envelope } = result;
        log.info({ attachmentId, mime: checked.mime, bytes: bytes.length, duplicate: result.duplicate }, 'widget upload stored');
        const ack: Extract<WidgetServerFrame, { type: 'ack' }> = {
          type: 'ack',
          clientMessageId: envelope.clientMessageId,
          messageId: envelope.id,
          seq: envelope.seq,
          sessionId: result.session.id,
          conversationId: envelope.conversationId,
          receivedAt: envelope.receivedAt,
        };
        const attachment = await opts.links.attachmentOf(envelope, envelope.customerId);
        const message: WidgetMessage = {
          id: envelope.id,
          seq: envelope.seq,
          direction: envelope.direction,
          author: authorOf(envelope),
          text: textOf(envelope),
          sentAt: envelope.sentAt,
          receivedAt: envelope.receivedAt,
          clientMessageId: envelope.clientMessageId,
          ...(attachment ? { attachment } : {}),
        };
        return reply.status(201).send({ ack, message });
      });
    });
  }

  app.get(`${WIDGET_ATTACHMENT_PATH}/:id`, { config: { policy: 'public' } }, async (request, reply) => {
    const { id } = parseWith(z.object({ id: AttachmentIdSchema }), request.params);
    const { exp, sig } = parseWith(LinkQuerySchema, request.query);
    if (exp * 1000 < now()) throw new HuiliuError('FORBIDDEN', 'This link has expired; open the chat again for a fresh one.');
    const record = await attachments.get(id);
    // A wrong signature answers like a missing file: a link for another customer's file reveals nothing.
    if (!record || !opts.links.check(id, record.customerId, exp, sig)) throw new HuiliuError('NOT_FOUND');
    const bytes = await attachments.bytes(id);
    if (!bytes) throw new HuiliuError('NOT_FOUND');
    const name = (await attachments.name(id)) ?? (isImageMime(record.mime) ? 'image' : 'file');
    return reply
      .type(record.mime === 'text/plain' ? 'text/plain; charset=utf-8' : record.mime)
      .header('X-Content-Type-Options', 'nosniff')
      .header('Content-Security-Policy', ATTACHMENT_CSP)
      .header('Content-Disposition', contentDisposition(isImageMime(record.mime) ? 'inline' : 'attachment', name))
      .header('Cross-Origin-Resource-Policy', 'same-origin')
      .header('Cache-Control', 'private, no-store')
      .header('Referrer-Policy', 'no-referrer')
      .send(bytes);
  });
}

/**
 * `Content-Disposition` with the file's name (RFC 6266): an ASCII fallback (`filename`, quotes and
 * backslashes replaced) and the exact name as `filename*` (RFC 8187, UTF-8, percent-encoded).
 */
export function contentDisposition(type: 'inline' | 'attachment', name: string): string {
  const fallback = name.replace(/[^\x20-\x7e]/g, '_').replace(/["\\]/g, '_');
  const encoded = encodeURIComponent(name).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `${type}; filename="${fallback}"; filename*=UTF-8''${encoded}`;
}
