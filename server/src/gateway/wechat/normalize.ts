import { createHash } from 'node:crypto';
import { MAX_TEXT_LENGTH, type Content, type InboundDraft } from '../../../../common/message/envelope';
import { hasVisibleText, truncateText } from '../../../../common/text/text';
import { isNode, textOfNode, type XmlNode } from './xml';

/**
 * WeChat push (parsed XML, see xml.ts) → what the channel does with it. Nothing WeChat-shaped passes
 * this point: a push becomes a customer `message` for the queue, a conversation `event` (stored only
 * when the customer already has an open conversation), or is `ignore`d (acknowledged and counted,
 * never stored). docs/channels/wechat.md has the table; `dispositionOf` is its code.
 */
export type WechatPush = WechatMessagePush | WechatEventPush | WechatIgnoredPush;

interface PushBase {
  /** A bounded label for metrics: `text`, `image` …, `event.subscribe` …, `unknown`. */
  type: string;
}

export interface WechatMessagePush extends PushBase {
  disposition: 'message';
  openid: string;
  /** The draft as stored when its media cannot be fetched (or it has none). */
  draft: Omit<InboundDraft, 'identity'>;
  /** An image to fetch through the media API; on success the message becomes an `image`. */
  media?: { kind: 'image'; mediaId: string };
}

export interface WechatEventPush extends PushBase {
  disposition: 'event';
  openid: string;
  draft: Omit<InboundDraft, 'identity'>;
}

export interface WechatIgnoredPush extends PushBase {
  disposition: 'ignore';
  /**
   * `platform-notice` (a job report, a verification, an invoice or device event …), `location-report`,
   * `unknown-type`, `empty`, `too-long` (a text beyond MAX_TEXT_LENGTH: refused, never cut, DESIGN §4).
   */
  reason: 'platform-notice' | 'location-report' | 'unknown-type' | 'empty' | 'too-long';
  /** The fields the push carried that matter to an operator (never logged: they may hold personal data). */
  fields: Record<string, string>;
}

/** A push that is not a WeChat push at all (no sender, no type, a bad time): WECHAT_XML_MALFORMED. */
export class WechatPushError extends Error {
  constructor(readonly field: string) {
    super(`the push has no valid ${field}`);
    this.name = 'WechatPushError';
  }
}

/** Customer messages (MsgType) that go to the queue. */
const MESSAGE_TYPES = new Set(['text', 'image', 'voice', 'video', 'shortvideo', 'location', 'link', 'file']);

/** Events (the `Event` of MsgType `event`, lower-cased) kept in the customer's open conversation. */
const CONVERSATION_EVENTS = new Set([
  'subscribe',
  'unsubscribe',
  'scan',
  'click',
  'view',
  'view_miniprogram',
  'kf_create_session',
  'kf_close_session',
  'kf_switch_session',
  'scancode_push',
  'scancode_waitmsg',
  'pic_sysphoto',
  'pic_photo_or_album',
  'pic_weixin',
  'location_select',
]);

/**
 * Events acknowledged and counted only: reports to the account (mass and template sends, subscription
 * messages, verifications, renewals), commerce and invoice notices, devices, Wi-Fi and Shake. Not
 * customer conversation; some carry personal data (an invoice title's phone number) that has no
 * reason to be stored. `LOCATION` (the periodic location report, every 5 s when enabled) is
 * `location-report`: storing it would flood the conversation.
 */
const PLATFORM_EVENTS = new Set([
  'masssendjobfinish',
  'templatesendjobfinish',
  'subscribe_msg_popup_event',
  'subscribe_msg_change_event',
  'subscribe_msg_sent_event',
  'merchant_order',
  'submit_invoice_title',
  'update_invoice_status',
  'user_authorize_invoice',
  'qualification_verify_success',
  'qualification_verify_fail',
  'naming_verify_success',
  'naming_verify_fail',
  'annual_renew',
  'verify_expired',
  'shakearoundusershake',
  'wificonnected',
]);

/** MsgTypes of the platform's own (hardware devices): acknowledged and counted. */
const PLATFORM_MESSAGE_TYPES = new Set(['device_event', 'device_text', 'device_status']);

/** OpenIDs are 28 characters of URL-safe base64 today; anything else is not a WeChat user id. */
const OPENID = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * Normalises one push.
 * @param push the children of the push's `<xml>` root
 * @param accountId the channel account it was posted to (kept in `meta`, so replies go out through it)
 * @param now the server's receive time
 * @throws WechatPushError when FromUserName, MsgType or CreateTime is missing or invalid
 */
export function normalizeWechatPush(push: XmlNode, accountId: string, now: Date): WechatPush {
  const msgType = (textOfNode(push, 'MsgType') ?? '').toLowerCase();
  if (!/^[a-z_]{1,32}$/.test(msgType)) throw new WechatPushError('MsgType');
  const openid = textOfNode(push, 'FromUserName') ?? '';
  if (!OPENID.test(openid)) throw new WechatPushError('FromUserName');
  const createTime = textOfNode(push, 'CreateTime') ?? '';
  if (!/^\d{1,12}$/.test(createTime)) throw new WechatPushError('CreateTime');
  // The sender's clock is metadata only (DESIGN §4): one outside what a Date holds, or more than a day
  // ahead of ours, is replaced by the time we received the push rather than refusing the message.
  const sentMs = Number(createTime) * 1000;
  const receivedAt = now.toISOString();
  const sentAt = sentMs <= now.getTime() + 86_400_000 ? new Date(sentMs).toISOString() : receivedAt;
  const t = (name: string) => textOfNode(push, name);

  if (msgType === 'event') {
    const event = (t('Event') ?? '').trim();
    const name = event.toLowerCase();
    const type = CONVERSATION_EVENTS.has(name) || PLATFORM_EVENTS.has(name) || name === 'location' ? `event.${name}` : 'event.unknown';
    if (name === 'location') {
      return {
        disposition: 'ignore',
        type,
        reason: 'location-report',
        fields: compact({ latitude: t('Latitude'), longitude: t('Longitude') }),
      };
    }
    if (!CONVERSATION_EVENTS.has(name)) {
      return {
        disposition: 'ignore',
        type,
        reason: PLATFORM_EVENTS.has(name) ? 'platform-notice' : 'unknown-type',
        fields: compact({ event, msgId: t('MsgID') ?? t('MsgId'), status: t('Status') }),
      };
    }
    const eventKey = t('EventKey');
    const data = eventData(name, push);
    const content: Content = { kind: 'event', body: { name: `wechat.${name}`, ...(Object.keys(data).length ? { data } : {}) } };
    return {
      disposition: 'event',
      type,
      openid,
      draft: {
        content,
        // Events are context, not the customer's words: nothing is retried on their account.
        critical: false,
        // WeChat gives events no id: the sender, its time and what happened identify a retry (issue 12).
        clientMessageId: `ev-${digest([openid, createTime, event, eventKey ?? ''])}`,
        sentAt,
        receivedAt,
        meta: { accountId, openid, msgType: 'event', event },
      },
    };
  }

  if (PLATFORM_MESSAGE_TYPES.has(msgType)) {
    return { disposition: 'ignore', type: msgType, reason: 'platform-notice', fields: compact({ msgId: t('MsgId') }) };
  }
  if (!MESSAGE_TYPES.has(msgType)) {
    return { disposition: 'ignore', type: 'unknown', reason: 'unknown-type', fields: compact({ msgType, msgId: t('MsgId') }) };
  }

  const msgId = t('MsgId');
  const meta: InboundDraft['meta'] = { accountId, openid, msgType, ...(msgId ? { msgId } : {}) };
  const base = {
    critical: true,
    // MsgId is WeChat's own message id: its 3 retries of a push carry the same one.
    // Without one (never seen from WeChat itself), the sender, time, type and content identify a retry,
    // so two different messages in the same second are two messages.
    clientMessageId:
      msgId && /^[A-Za-z0-9_-]{1,64}$/.test(msgId)
        ? msgId
        : `msg-${digest([openid, createTime, msgType, t('Content') ?? '', t('MediaId') ?? '', t('Url') ?? '', t('Label') ?? ''])}`,
    sentAt,
    receivedAt,
  };
  const textDraft = (text: string, extra: InboundDraft['meta'] = {}) => ({
    ...base,
    content: { kind: 'text' as const, body: { text: cut(text) } },
    meta: { ...meta, ...extra },
  });
  const mediaId = t('MediaId');
  switch (msgType) {
    case 'text': {
      const text = t('Content') ?? '';
      if (!hasVisibleText(text)) return { disposition: 'ignore', type: msgType, reason: 'empty', fields: {} };
      if (text.length > MAX_TEXT_LENGTH)
        return { disposition: 'ignore', type: msgType, reason: 'too-long', fields: { length: String(text.length) } };
      return { disposition: 'message', type: msgType, openid, draft: { ...base, content: { kind: 'text', body: { text } }, meta } };
    }
    case 'image': {
      const draft = textDraft('[image]', compact({ mediaId, picUrl: bounded(t('PicUrl')) }));
      return { disposition: 'message', type: msgType, openid, draft, ...(mediaId ? { media: { kind: 'image' as const, mediaId } } : {}) };
    }
    case 'voice': {
      // WeChat's own speech recognition (when the account turned it on) is the transcript.
      const recognition = t('Recognition')?.trim();
      const text = recognition ? `[voice message] ${recognition}` : '[voice message]';
      return {
        disposition: 'message',
        type: msgType,
        openid,
        draft: textDraft(text, compact({ mediaId, format: t('Format'), transcript: recognition ? 'wechat' : undefined })),
      };
    }
    case 'video':
    case 'shortvideo':
      return {
        disposition: 'message',
        type: msgType,
        openid,
        draft: textDraft(msgType === 'video' ? '[video]' : '[short video]', compact({ mediaId, thumbMediaId: t('ThumbMediaId') })),
      };
    case 'location': {
      const [x, y, label] = [t('Location_X'), t('Location_Y'), t('Label')];
      const text = `[location] ${label ? `${label} ` : ''}(${x ?? '?'}, ${y ?? '?'})`;
      return {
        disposition: 'message',
        type: msgType,
        openid,
        draft: textDraft(text, compact({ latitude: x, longitude: y, scale: t('Scale'), label: bounded(label) })),
      };
    }
    case 'link': {
      const [title, description, url] = [t('Title'), t('Description'), t('Url')];
      const text = ['[link]', title, description, url].filter((s) => s).join('\n');
      return { disposition: 'message', type: msgType, openid, draft: textDraft(text, compact({ url: bounded(url) })) };
    }
    default: {
      // file: a document the customer sent from a chat (Title, FileKey, FileMd5, FileTotalLen).
      const title = t('Title') ?? t('Description') ?? 'file';
      return {
        disposition: 'message',
        type: msgType,
        openid,
        draft: textDraft(`[file] ${title}`, compact({ fileKey: t('FileKey'), fileMd5: t('FileMd5'), fileSize: t('FileTotalLen') })),
      };
    }
  }
}

/** What an event says, by event; only bounded scalar strings. */
function eventData(name: string, push: XmlNode): Record<string, string> {
  const t = (n: string, node: XmlNode = push) => bounded(textOfNode(node, n));
  const key = t('EventKey');
  switch (name) {
    case 'subscribe':
    case 'scan': {
      // Subscribing by scanning a parametric QR code: EventKey `qrscene_<scene>`; SCAN (already a follower): `<scene>`.
      const scene = name === 'scan' ? key : key?.startsWith('qrscene_') ? key.slice('qrscene_'.length) : undefined;
      return compact({ eventKey: key, scene, ticket: t('Ticket') });
    }
    case 'view':
      return compact({ url: key, menuId: t('MenuId') });
    case 'kf_create_session':
    case 'kf_close_session':
      return compact({ kfAccount: t('KfAccount') });
    case 'kf_switch_session':
      return compact({ fromKfAccount: t('FromKfAccount'), toKfAccount: t('ToKfAccount') });
    case 'scancode_push':
    case 'scancode_waitmsg': {
      const info = isNode(push.ScanCodeInfo) ? push.ScanCodeInfo : undefined;
      return compact({ eventKey: key, scanType: info && t('ScanType', info), scanResult: info && t('ScanResult', info) });
    }
    case 'pic_sysphoto':
    case 'pic_photo_or_album':
    case 'pic_weixin': {
      const info = isNode(push.SendPicsInfo) ? push.SendPicsInfo : undefined;
      return compact({ eventKey: key, count: info && t('Count', info) });
    }
    case 'location_select': {
      const info = isNode(push.SendLocationInfo) ? push.SendLocationInfo : undefined;
      return compact({
        eventKey: key,
        latitude: info && t('Location_X', info),
        longitude: info && t('Location_Y', info),
        scale: info && t('Scale', info),
        label: info && t('Label', info),
        poiname: info && t('Poiname', info),
      });
    }
    default:
      return compact({ eventKey: key });
  }
}

const digest = (parts: string[]) => createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 40);

/** Meta values are at most 1,024 characters: a longer raw value is dropped, not cut into a wrong id. */
const bounded = (value: string | undefined) => (value !== undefined && value.length <= 1024 ? value : undefined);

/** Texts built here from the push's parts (a link's title and description) are cut, by grapheme, to fit. */
const cut = (text: string) => (text.length > MAX_TEXT_LENGTH ? truncateText(text, MAX_TEXT_LENGTH, '…') : text);

function compact(fields: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(fields)) if (v !== undefined && v !== '') out[k] = v;
  return out;
}
