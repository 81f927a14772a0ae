import { z } from 'zod';
import { ChannelCodeSchema, SessionIdSchema } from './session-id';
import { visibleTextSchema, idTokenSchema } from '../text/text';
import { AuthorKindSchema, type AuthorKind } from '../ai/assist';

/** Internal standard message format (DESIGN §4). Adapters never leak channel shapes past here. */
export const ENVELOPE_VERSION = 1 as const;

/** Longest message text in UTF-16 code units (a longer message is refused, never cut: cutting would lose words). */
export const MAX_TEXT_LENGTH = 8000;

const Uuid = z.uuid();
const UuidV7 = z.uuid({ version: 'v7' });
const IsoTime = z.iso.datetime({ offset: true });

/** A text message needs a visible character (DESIGN §8): only zero-width or blank text is refused. */
export const TextBodySchema = z.object({ text: visibleTextSchema(MAX_TEXT_LENGTH) });
export const ImageBodySchema = z.object({
  attachmentId: z.string().min(1).max(200),
  mime: z.string().regex(/^image\/[\w.+-]+$/),
  size: z.number().int().nonnegative(),
  caption: z.string().max(MAX_TEXT_LENGTH).optional(),
});
export const FileBodySchema = z.object({
  attachmentId: z.string().min(1).max(200),
  name: z.string().min(1).max(255),
  mime: z.string().min(1).max(200),
  size: z.number().int().nonnegative(),
});
export const AudioBodySchema = z.object({
  attachmentId: z.string().min(1).max(200),
  mime: z.string().regex(/^audio\/[\w.+-]+$/),
  durationMs: z.number().int().nonnegative(),
  transcript: z.string().max(MAX_TEXT_LENGTH).optional(),
});
export const EventBodySchema = z.object({
  name: z.string().regex(/^[a-z][a-z0-9_.-]{0,63}$/),
  data: z.record(z.string(), z.unknown()).optional(),
});

export const DirectionSchema = z.enum(['in', 'out']);
export type Direction = z.infer<typeof DirectionSchema>;

/** Channel raw ids (message ids, openids...) — scalar values only, never channel payload shapes. */
export const MetaSchema = z.record(z.string().max(64), z.union([z.string().max(1024), z.number(), z.boolean(), z.null()]));

const base = z.object({
  v: z.literal(ENVELOPE_VERSION),
  id: UuidV7,
  sessionId: SessionIdSchema,
  conversationId: Uuid,
  customerId: Uuid,
  channel: ChannelCodeSchema,
  direction: DirectionSchema,
  seq: z.number().int().min(1),
  critical: z.boolean(),
  clientMessageId: idTokenSchema(1, 128),
  sentAt: IsoTime,
  receivedAt: IsoTime,
  /** Staff user id for outbound messages written by an agent; absent for customer and AI messages. */
  authorId: z.string().min(1).max(64).optional(),
  /**
   * Who wrote it (DESIGN §4 `author.kind`; the id is `authorId`). Every AI message is `ai`. Absent on
   * envelopes stored before issue 10: `authorOf` derives it (inbound → customer, with `authorId` →
   * agent, else system).
   */
  authorKind: AuthorKindSchema.optional(),
  meta: MetaSchema,
});

/** The kind + body pair alone (what a channel or an agent says), validated together. */
export const ContentSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('text'), body: TextBodySchema }),
  z.object({ kind: z.literal('image'), body: ImageBodySchema }),
  z.object({ kind: z.literal('file'), body: FileBodySchema }),
  z.object({ kind: z.literal('audio'), body: AudioBodySchema }),
  z.object({ kind: z.literal('event'), body: EventBodySchema }),
]);
export type Content = z.infer<typeof ContentSchema>;

/** The envelope: routing and ordering fields plus one content variant. */
export const EnvelopeSchema = z.intersection(base, ContentSchema);
export type Envelope = z.infer<typeof EnvelopeSchema>;
export type MessageKind = Envelope['kind'];
export type MessageBody = Envelope['body'];

/**
 * Kinds of identifier that name one person on every channel (issue 12 continuity): a WeChat
 * **unionid** (one per person across a company's WeChat accounts and apps), a **phone** number
 * (E.164, `+` and digits) and an **e-mail** address (lower-cased). A channel's own ids (openid, JID,
 * app user id) are `ChannelIdentity.externalId`, not links.
 */
export const IdentityLinkKindSchema = z.enum(['wechat-unionid', 'phone', 'email']);
export type IdentityLinkKind = z.infer<typeof IdentityLinkKindSchema>;

/**
 * One cross-channel identifier a channel asserts as **verified** for the customer who wrote: the
 * WeChat API's unionid, an app's signed-in user's phone or e-mail (the app's key vouches for it).
 * A verified link that already belongs to another customer merges the two (audited, undoable) when
 * its source is trusted to (`merge`).
 * Unverified details (a phone typed into a form) are `phone` on the identity, never links.
 */
export const IdentityLinkSchema = z.object({
  kind: IdentityLinkKindSchema,
  value: z.string().min(1).max(256),
  /**
   * The source is trusted to verify (WeChat's own unionid; an app account configured with
   * `mergeOnVerified`): a link another customer already holds then merges the two. Without it, a
   * link nobody holds is recorded, and one somebody holds changes nothing (an agent may merge after
   * checking) — so no integration can claim another person's conversation by naming their phone.
   */
  merge: z.boolean().optional(),
});
export type IdentityLink = z.infer<typeof IdentityLinkSchema>;

/**
 * The canonical form of a link's value, or null when it is not one: a phone keeps `+` and digits
 * (spaces, dashes, dots and brackets dropped; 6–15 digits, ITU-T E.164), an e-mail is trimmed and
 * lower-cased (`local@domain.tld`), a unionid is 10–64 letters, digits, `_` or `-`. Links are looked
 * up by this form, so `+86 138-0013-8000` and `+8613800138000` are one link.
 */
/**
 * An e-mail address as contact centres meet them: RFC 5322's dot-atom local part (letters of any
 * script, digits and ``!#$%&'*+/=?^_`{|}~.-``; no quoted local parts — no `"`, `<`, `>`, spaces) and a
 * domain of at least two labels of letters, digits and inner hyphens (IDN allowed, as Unicode).
 */
const EMAIL =
  /^[\p{L}\p{N}.!#$%&'*+/=?^_`{|}~-]+@[\p{L}\p{N}](?:[\p{L}\p{N}-]*[\p{L}\p{N}])?(?:\.[\p{L}\p{N}](?:[\p{L}\p{N}-]*[\p{L}\p{N}])?)+$/u;

export function normalizeLinkValue(kind: IdentityLinkKind, value: string): string | null {
  switch (kind) {
    case 'phone': {
      const v = value.replace(/[\s().-]/g, '');
      return /^\+?\d{6,15}$/.test(v) ? v : null;
    }
    case 'email': {
      const v = value.trim().toLowerCase();
      return v.length <= 254 && EMAIL.test(v) ? v : null;
    }
    case 'wechat-unionid':
      return /^[A-Za-z0-9_-]{10,64}$/.test(value) ? value : null;
  }
}

/** At most this many links ride on one inbound message. */
export const MAX_IDENTITY_LINKS = 5;

/** A customer's identity on one channel (an openid, a JID, a phone, an app user id, a web visitor). */
export const ChannelIdentitySchema = z.object({
  channel: ChannelCodeSchema,
  // Room for a channel's scope before the channel's own id (app: `appId:` + up to 256 characters).
  externalId: idTokenSchema(1, 512),
  displayName: z.string().max(128).optional(),
  phone: z.string().max(32).optional(),
  /** Verified cross-channel identifiers (see IdentityLinkSchema); the store links or merges on them. */
  links: z.array(IdentityLinkSchema).max(MAX_IDENTITY_LINKS).optional(),
});
export type ChannelIdentity = z.infer<typeof ChannelIdentitySchema>;

/**
 * What `normalize` produces from one inbound channel message: everything the store needs to mint or
 * find the customer, conversation and session and to assign `id` and `seq`.
 */
export const InboundDraftSchema = z.object({
  identity: ChannelIdentitySchema,
  content: ContentSchema,
  critical: z.boolean(),
  clientMessageId: idTokenSchema(1, 128),
  sentAt: IsoTime,
  receivedAt: IsoTime,
  meta: MetaSchema,
  /**
   * What a retry of this message is compared on instead of `content`, when the stored content depends
   * on something fetched (issue 13: an app image by URL — the first try may store "[image] host", a
   * retry the image): the request as the source sent it. Same clientMessageId + same value = the same
   * message (the first answer); another value = IDEMPOTENCY_CONFLICT.
   */
  idempotencyContent: z.string().max(20_000).optional(),
  hints: z
    .object({
      skillGroup: z.string().min(1).max(64).optional(),
      lang: z.string().min(2).max(16).optional(),
    })
    .optional(),
});
export type InboundDraft = z.infer<typeof InboundDraftSchema>;

/** A one-line text rendering of any message, for previews, scoring and text-only channels. */
export function textOf(content: Content): string {
  switch (content.kind) {
    case 'text':
      return content.body.text;
    case 'image':
      return content.body.caption ?? '[image]';
    case 'file':
      return `[file] ${content.body.name}`;
    case 'audio':
      return content.body.transcript ?? '[voice message]';
    case 'event':
      return `[${content.body.name}]`;
  }
}

/** Who wrote a message: its `authorKind`, or for envelopes stored before it existed, derived (see the field). */
export function authorOf(e: Pick<Envelope, 'direction' | 'authorId' | 'authorKind'>): AuthorKind {
  if (e.authorKind) return e.authorKind;
  if (e.direction === 'in') return 'customer';
  return e.authorId ? 'agent' : 'system';
}

/**
 * Staff-only messages: event messages the server writes into a conversation for agents (e.g. the
 * record of a transfer, `staff.transfer`). They are stored with the conversation but never sent to
 * the customer nor shown in what customers read back (widget replay, the app's message list).
 */
export const STAFF_EVENT_PREFIX = 'staff.';
export function isStaffOnly(e: Pick<Envelope, 'direction' | 'kind' | 'body'>): boolean {
  return e.direction === 'out' && e.kind === 'event' && (e.body as { name: string }).name.startsWith(STAFF_EVENT_PREFIX);
}
