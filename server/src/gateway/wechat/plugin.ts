import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { HuiliuError, type ErrorCode } from '../../../../common/errors/codes';
import type { InboundDraft } from '../../../../common/message/envelope';
import type { AttachmentStore } from '../../attachments/store';
import { checkImage, readImageHeader, type CheckedImage } from '../../attachments/image';
import type { ServerConfig } from '../../config/config';
import type { Logger } from '../../logging/logger';
import type { Metrics } from '../../metrics/metrics';
import type { InboundResult, SessionStore } from '../../sessions/store';
import type { ChannelAdapters } from '../channel-adapter';
import type { ChannelStore } from '../channels';
import { parseRatingReply, type CsatSurveyor } from '../csat-survey';
import type { Ingest } from '../ingest';
import { WechatAccounts, type WechatAccount } from './account';
import { createWechatChannelAdapter } from './adapter';
import { WechatApi, WechatApiError } from './api';
import { signatureMatches, wechatDecrypt, WechatCryptoError } from './crypto';
import { normalizeWechatPush, WechatPushError, type WechatEventPush, type WechatMessagePush } from './normalize';
import { MAX_PUSH_BYTES, parsePushXml, textOfNode, WechatXmlError, type XmlNode } from './xml';

/**
 * How far a push's URL `timestamp` may be from the server's clock (seconds). WeChat signs each
 * delivery attempt afresh and retries within ~15 s; 5 minutes tolerates clock skew, and a replay
 * inside the window of a message already stored is a duplicate (idempotent on MsgId), so it stores
 * nothing.
 */
export const TIMESTAMP_WINDOW_SECONDS = 300;

/** How long a push waits for its unionid and its image before storing without them (ms): WeChat waits 5 s. */
const ENRICH_BUDGET_MS = 3000;

export interface WechatChannelOptions {
  channels: ChannelStore;
  adapters: ChannelAdapters;
  ingest: Ingest;
  store: SessionStore;
  config: ServerConfig;
  metrics: Metrics;
  logger: Logger;
  /** Where fetched images are stored; without it images stay `[image]` texts with their media id. */
  attachments?: { store: AttachmentStore; ocr: boolean };
  /** The WeChat API client (tests pass one with a moved clock). */
  api?: WechatApi;
  /** Issue 15: a rating reply to a CSAT prompt is recorded by it (and thanked), not stored as a message. */
  csat?: Pick<CsatSurveyor, 'answer'>;
  /** How long loaded accounts are cached (ms; default 30 s). */
  accountTtlMs?: number;
  now?: () => number;
}

const QuerySchema = z.object({
  signature: z.string().max(64).optional(),
  timestamp: z.string().max(16).optional(),
  nonce: z.string().max(64).optional(),
  echostr: z.string().max(512).optional(),
  encrypt_type: z.string().max(16).optional(),
  msg_signature: z.string().max(64).optional(),
  openid: z.string().max(128).optional(),
});

const ParamsSchema = z.object({ accountId: z.string().max(64) });

/**
 * The WeChat official account channel (`WX`, DESIGN §6): `GET|POST /channels/wechat/:accountId`, the
 * URL an official account's server configuration (服务器配置) points at. GET is the URL check (echo
 * `echostr` when the signature holds); POST is a push, in plain or AES safe mode, answered `success`
 * once what it carries is stored (the agent's answer goes out later through the customer-service API:
 * adapter.ts). Refusals are `{error:{code,message}}` with the WECHAT_* codes, counted in
 * `huiliu_channel_rejected_total{channel="WX",code}` and logged with the account id only.
 * docs/channels/wechat.md says what becomes what.
 */
export async function wechatChannelPlugin(app: FastifyInstance, opts: WechatChannelOptions): Promise<void> {
  const now = opts.now ?? Date.now;
  const log = opts.logger.child({ component: 'gateway.wechat' });
  const accounts = new WechatAccounts(opts.channels, {
    ttlMs: opts.accountTtlMs ?? 30_000,
    now,
    onInvalid: (account, problems) => log.error({ account, problems }, 'WeChat account misconfigured: its pushes are refused'),
  });
  const api = opts.api ?? new WechatApi();
  opts.adapters.register(createWechatChannelAdapter({ store: opts.store, accounts, api, logger: opts.logger }));
  const groups = new Set(opts.config.skillGroups.map((g) => g.id));
  const imageLimits = { maxBytes: opts.config.attachments.maxImageBytes, maxPixels: opts.config.attachments.maxImagePixels };
  const { metrics } = opts;

  // Every body of this scope is read as text, whatever its declared type (WeChat sends text/xml),
  // and at most MAX_PUSH_BYTES: a larger one is PAYLOAD_TOO_LARGE before any parsing.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string', bodyLimit: MAX_PUSH_BYTES }, (_request, body, done) => done(null, body));

  // Every refusal of this scope is counted by its code and logged without the body or the query.
  app.addHook('onError', async (request, _reply, error) => {
    const code: string =
      error instanceof HuiliuError
        ? error.code
        : error.code === 'FST_ERR_CTP_BODY_TOO_LARGE'
          ? 'PAYLOAD_TOO_LARGE'
          : (error.code ?? 'INTERNAL');
    metrics.channelRejected.inc({ channel: 'WX', code });
    const account = (request.params as { accountId?: unknown } | undefined)?.accountId;
    const details = error instanceof HuiliuError ? error.details : undefined;
    log.warn({ account: typeof account === 'string' ? account.slice(0, 64) : undefined, code, details }, 'WeChat request refused');
  });

  const refuse = (code: ErrorCode, reason?: string): never => {
    throw new HuiliuError(code, undefined, reason ? { reason } : undefined);
  };

  /** Checks the URL signature and the timestamp window; returns the checked query. */
  const verified = (account: WechatAccount, request: FastifyRequest) => {
    const parsed = QuerySchema.safeParse(request.query);
    if (!parsed.success) refuse('WECHAT_SIGNATURE_INVALID', 'query');
    const q = parsed.data!;
    const { timestamp, nonce } = q;
    if (!timestamp || !nonce || !/^\d{1,12}$/.test(timestamp)) refuse('WECHAT_SIGNATURE_INVALID', 'missing');
    if (!signatureMatches(q.signature, [account.token, timestamp!, nonce!])) refuse('WECHAT_SIGNATURE_INVALID', 'signature');
    // After the signature: an unsigned request learns nothing about the server's clock.
    if (Math.abs(now() / 1000 - Number(timestamp)) > TIMESTAMP_WINDOW_SECONDS) refuse('WECHAT_TIMESTAMP_STALE');
    return q as typeof q & { timestamp: string; nonce: string };
  };

  const accountOf = (request: FastifyRequest) => {
    const params = ParamsSchema.safeParse(request.params);
    if (!params.success) throw new HuiliuError('WECHAT_ACCOUNT_NOT_FOUND');
    return accounts.get(params.data.accountId);
  };

  app.get('/channels/wechat/:accountId', { config: { policy: 'channel-key' } }, async (request, reply) => {
    const account = await accountOf(request);
    const q = verified(account, request);
    // The official account's URL check sends echostr in clear in every mode; only a plain token is echoed.
    if (!q.echostr || !/^[A-Za-z0-9_-]{1,128}$/.test(q.echostr)) refuse('WECHAT_SIGNATURE_INVALID', 'echostr');
    return reply.type('text/plain; charset=utf-8').send(q.echostr);
  });

  app.post('/channels/wechat/:accountId', { config: { policy: 'channel-key' }, bodyLimit: MAX_PUSH_BYTES }, async (request, reply) => {
    const account = await accountOf(request);
    const q = verified(account, request);
    const encrypted = q.encrypt_type !== undefined && q.encrypt_type.toLowerCase() === 'aes';
    if (q.encrypt_type !== undefined && !encrypted && q.encrypt_type.toLowerCase() !== 'raw') refuse('WECHAT_MODE_REFUSED', 'encrypt_type');
    if (encrypted ? account.mode === 'plain' : account.mode === 'safe')
      refuse('WECHAT_MODE_REFUSED', encrypted ? 'aes-on-plain' : 'plain-on-safe');

    const body = typeof request.body === 'string' ? request.body : '';
    let push = parse(body);
    if (encrypted) {
      const encrypt = textOfNode(push, 'Encrypt');
      if (!encrypt) refuse('WECHAT_XML_MALFORMED', 'no-encrypt');
      if (!signatureMatches(q.msg_signature, [account.token, q.timestamp, q.nonce, encrypt!]))
        refuse('WECHAT_SIGNATURE_INVALID', 'msg_signature');
      let inner: string;
      try {
        inner = wechatDecrypt(encrypt!, account.aesKey!, account.appId);
      } catch (error) {
        if (error instanceof WechatCryptoError && error.reason === 'appid') refuse('WECHAT_APPID_MISMATCH');
        refuse('WECHAT_DECRYPT_FAILED', error instanceof WechatCryptoError ? error.reason : 'cipher');
      }
      push = parse(inner!);
    }

    let normalized;
    try {
      normalized = normalizeWechatPush(push, account.accountId, new Date(now()));
    } catch (error) {
      if (error instanceof WechatPushError) refuse('WECHAT_XML_MALFORMED', `field:${error.field}`);
      throw error;
    }

    if (normalized.disposition === 'ignore') {
      metrics.channelAcknowledged.inc({ channel: 'WX', type: normalized.type, reason: normalized.reason });
      return success(reply);
    }
    if (normalized.disposition === 'event') {
      if (!(await storeEvent(account, normalized))) {
        metrics.channelAcknowledged.inc({ channel: 'WX', type: normalized.type, reason: 'no-conversation' });
      }
      return success(reply);
    }
    if (await csatReply(normalized)) return success(reply);
    await storeMessage(account, normalized);
    return success(reply);
  });

  function parse(xml: string): XmlNode {
    try {
      return parsePushXml(xml);
    } catch (error) {
      if (error instanceof WechatXmlError) refuse('WECHAT_XML_MALFORMED', error.reason);
      throw error;
    }
  }

  const skillGroupOf = (account: WechatAccount) =>
    account.skillGroup && groups.has(account.skillGroup) ? account.skillGroup : opts.config.skillGroups[0]!.id;

  /** An event joins the customer's open WeChat conversation; with none it is only acknowledged. */
  async function storeEvent(account: WechatAccount, push: WechatEventPush): Promise<boolean> {
    const customer = await opts.store.findCustomerByIdentity('WX', push.openid);
    const session = customer ? await opts.store.latestSession(customer.id, 'WX') : null;
    if (!session || session.status === 'closed') return false;
    await accept({ ...push.draft, identity: { channel: 'WX', externalId: push.openid } }, account);
    return true;
  }

  /**
   * Issue 15: a text that answers the customer's CSAT prompt ("5", "５", "五") is recorded as the
   * closed session's rating and thanked, once (WeChat's retry of it, same MsgId, changes nothing), and
   * is not stored as a message nor routed. True when it was such an answer. A surveyor failure leaves
   * it an ordinary message.
   */
  async function csatReply(push: WechatMessagePush): Promise<boolean> {
    // Only a text that is a rating costs a customer look-up.
    if (!opts.csat || push.draft.content.kind !== 'text' || parseRatingReply(push.draft.content.body.text) === null) return false;
    try {
      const customer = await opts.store.findCustomerByIdentity('WX', push.openid);
      const answer = await opts.csat.answer({
        channel: 'WX',
        customerId: customer?.id ?? null,
        messageId: push.draft.clientMessageId,
        text: push.draft.content.body.text,
      });
      if (answer.kind === 'not-rating') return false;
      metrics.channelAcknowledged.inc({ channel: 'WX', type: push.type, reason: answer.kind === 'recorded' ? 'csat' : 'csat-duplicate' });
      return true;
    } catch (error) {
      log.error({ err: error }, 'WeChat CSAT reply could not be checked; handled as a message');
      return false;
    }
  }

  /**
   * A customer message: its unionid and its image are fetched side by side within ENRICH_BUDGET_MS,
   * then it is stored (with or without them) and published.
   */
  async function storeMessage(account: WechatAccount, push: WechatMessagePush): Promise<void> {
    const [unionid, image] = await Promise.all([
      within(api.unionid(account, push.openid), ENRICH_BUDGET_MS, null),
      push.media && opts.attachments ? fetchImage(account, push.media.mediaId) : Promise.resolve(null),
    ]);
    const identity: InboundDraft['identity'] = {
      channel: 'WX',
      externalId: push.openid,
      // WeChat itself says whose unionid it is: a trusted link, it may merge (docs/continuity.md).
      ...(unionid ? { links: [{ kind: 'wechat-unionid' as const, value: unionid, merge: true }] } : {}),
    };
    const attachments = opts.attachments;
    if (!image || !attachments) {
      await accept({ ...push.draft, identity }, account);
      return;
    }
    const digest = createHash('sha256').update(image.bytes).digest('hex');
    const attachmentId = attachments.store.idFor('WX', push.openid, push.draft.clientMessageId, digest);
    const draft: InboundDraft = {
      ...push.draft,
      identity,
      content: { kind: 'image', body: { attachmentId, mime: image.mime, size: image.size } },
    };
    await accept(draft, account, async ({ envelope }) => {
      if (envelope.kind !== 'image') return;
      await attachments.store.put({
        id: attachmentId,
        customerId: envelope.customerId,
        sessionId: envelope.sessionId,
        conversationId: envelope.conversationId,
        messageId: envelope.id,
        mime: image.mime,
        bytes: image.bytes,
        width: image.width,
        height: image.height,
        ocr: attachments.ocr ? 'pending' : 'skipped',
      });
    });
  }

  /** The image behind a media id, checked like the app channel's images; null (counted) when it cannot be had. */
  async function fetchImage(account: WechatAccount, mediaId: string): Promise<CheckedImage | null> {
    const failed = (reason: string) => {
      metrics.channelMediaFailed.inc({ channel: 'WX', reason });
      return null;
    };
    const fetched = await within(
      api.media(account, mediaId, imageLimits.maxBytes).then(
        (m) => m,
        (error: unknown) => (error instanceof WechatApiError ? String(error.errcode) : 'error'),
      ),
      ENRICH_BUDGET_MS,
      'timeout',
    );
    if (typeof fetched === 'string') return failed(/^\d+$/.test(fetched) ? 'errcode' : fetched);
    try {
      // The bytes decide the type (WeChat's content-type says jpeg for most); size and pixels as for any image.
      const mime = readImageHeader(fetched.bytes)?.mime ?? fetched.contentType;
      return checkImage({ base64: fetched.bytes.toString('base64'), mime }, imageLimits, 'media');
    } catch (error) {
      if (error instanceof HuiliuError) return failed(error.code === 'PAYLOAD_TOO_LARGE' ? 'too_large' : 'not_image');
      throw error;
    }
  }

  /**
   * Stores and publishes one draft. The same push retried (WeChat: 3 times) is a duplicate and stores
   * nothing; a retry whose content differs from the first attempt's (its image could be fetched this
   * time, or no longer) is the same message too: the first stored version stands.
   */
  async function accept(
    draft: InboundDraft,
    account: WechatAccount,
    beforePublish?: (result: InboundResult) => Promise<void>,
  ): Promise<void> {
    try {
      await opts.ingest.accept(draft, skillGroupOf(account), beforePublish ? { beforePublish } : {});
    } catch (error) {
      if (error instanceof HuiliuError && error.code === 'IDEMPOTENCY_CONFLICT') {
        log.info({ account: account.accountId }, 'WeChat retry differs from the stored message; the stored one stands');
        return;
      }
      throw error;
    }
  }
}

/** WeChat's "received, the answer comes later" (被动回复: an empty `success`). */
function success(reply: FastifyReply) {
  return reply.type('text/plain; charset=utf-8').send('success');
}

/** `promise`, or `fallback` after `ms` (the promise keeps running; its outcome is dropped). */
function within<T, F>(promise: Promise<T>, ms: number, fallback: F): Promise<T | F> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<F>((resolve) => {
    timer = setTimeout(() => resolve(fallback), ms);
    timer.unref();
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}
