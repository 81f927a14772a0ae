import { z } from 'zod';
import { SessionIdSchema } from '../message/session-id';

/**
 * Attachments and what the server read from them (issue 10, OCR): the image a customer sends on the
 * app channel, the text OCR found in it as staff see it, and the search over that text.
 */

/** Raster image types the server accepts; each is recognised by its magic bytes, never by the declared type alone. */
export const IMAGE_MIMES = ['image/png', 'image/jpeg', 'image/webp', 'image/gif'] as const;
export const ImageMimeSchema = z.enum(IMAGE_MIMES);
export type ImageMime = z.infer<typeof ImageMimeSchema>;

/** An attachment id: 32 lower-case hex digits (a keyed hash of the message it came with, so a retry gets the same id). */
export const AttachmentIdSchema = z.string().regex(/^[0-9a-f]{32}$/, 'expected 32 hex digits');

/**
 * An image in a JSON request (`POST /api/v1/channels/app/messages` `image`): the file's bytes in
 * standard base64 (RFC 4648 §4, padding optional, no `data:` prefix) and its declared type. The
 * server decodes it, checks its size and that the bytes are of the declared type. The schema bounds the
 * string loosely (64 MiB of base64); the configured size limit (`attachments.maxImageBytes`) is
 * checked on the decoded bytes.
 */
export const ImageUploadSchema = z.object({
  base64: z
    .string()
    .min(1)
    .max(64 * 1024 * 1024),
  mime: z.string().min(1).max(100),
});
export type ImageUpload = z.infer<typeof ImageUploadSchema>;

/**
 * An image by reference (issue 13): the server fetches `url` itself — `https:` only, public
 * addresses only, at most 3 redirects each checked again, bounded in time and size
 * (docs/channels/app.md, "Images by URL"). At most 2048 characters.
 */
export const ImageUrlSchema = z.strictObject({ url: z.string().min(1).max(2048) });
export type ImageUrl = z.infer<typeof ImageUrlSchema>;

/** An app message's `image`: uploaded (`{base64, mime}`) or by URL (`{url}`). */
export const AppImageInputSchema = z.union([ImageUrlSchema, ImageUploadSchema]);
export type AppImageInput = z.infer<typeof AppImageInputSchema>;

/**
 * Where reading the text of an image stands: `pending` (queued or running), `done` (text may still be
 * empty: the image had none), `failed` (the image could not be read), `skipped` (OCR is off, or was
 * too busy when the image arrived).
 */
export const OcrStatusSchema = z.enum(['pending', 'done', 'failed', 'skipped']);
export type OcrStatus = z.infer<typeof OcrStatusSchema>;

/**
 * The text OCR read from an image as staff see it (issue 10): phone numbers, resident ID numbers,
 * card numbers and e-mail addresses in it are masked (`common/privacy/mask.ts`); the raw text stays
 * sealed on the server. `lang`: `zh` when Han characters are ≥ 30 % of the letters, else `en`.
 * `confidence`: the engine's mean word confidence, 0..100.
 */
export const OcrViewSchema = z.object({
  status: OcrStatusSchema,
  text: z.string().max(20_000).optional(),
  lang: z.enum(['zh', 'en']).optional(),
  confidence: z.number().min(0).max(100).optional(),
});
export type OcrView = z.infer<typeof OcrViewSchema>;

/** The push (`message:annotated`) and event payload when an image's text was read. */
export const MessageAnnotationSchema = z.object({
  messageId: z.uuid(),
  sessionId: SessionIdSchema,
  conversationId: z.uuid(),
  attachmentId: AttachmentIdSchema,
  ocr: OcrViewSchema,
});
export type MessageAnnotation = z.infer<typeof MessageAnnotationSchema>;

/** `GET /api/v1/attachments/search?q=&limit=`: staff search the text read from images. */
export const AttachmentSearchQuerySchema = z.strictObject({
  q: z.string().trim().min(1).max(200),
  limit: z.coerce.number().int().min(1).max(100).default(20),
});
export type AttachmentSearchQuery = z.infer<typeof AttachmentSearchQuerySchema>;

export const AttachmentSearchHitSchema = z.object({
  attachmentId: AttachmentIdSchema,
  messageId: z.string(),
  sessionId: SessionIdSchema,
  conversationId: z.string(),
  /** When the image arrived (ISO 8601). */
  receivedAt: z.string(),
  /** The start of the image's text, masked like every staff view of it. */
  snippet: z.string(),
});
export type AttachmentSearchHit = z.infer<typeof AttachmentSearchHitSchema>;

export const AttachmentSearchResponseSchema = z.object({ hits: z.array(AttachmentSearchHitSchema) });
export type AttachmentSearchResponse = z.infer<typeof AttachmentSearchResponseSchema>;
