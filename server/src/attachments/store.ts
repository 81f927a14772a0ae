import type { ImageMime, OcrStatus } from '../../../common/api/attachments';
import type { Lang } from '../../../common/ai/types';

/** What an attachment is: an image (IMAGE_MIMES) or, since issue 13, a PDF or plain-text file. */
export type AttachmentMime = ImageMime | 'application/pdf' | 'text/plain';
/** Whether a type is one of the image types (shown inline, read by OCR). */
export const isImageMime = (mime: AttachmentMime): mime is ImageMime => mime.startsWith('image/');

/** An attachment as stored, without its bytes (they are read with `bytes`). */
export interface AttachmentRecord {
  /** 32 hex digits (common/api/attachments.ts `AttachmentIdSchema`). */
  id: string;
  customerId: string;
  sessionId: string;
  conversationId: string;
  /** The message (Envelope of kind `image`) that carries it. */
  messageId: string;
  mime: AttachmentMime;
  /** Bytes. */
  size: number;
  /** Pixels, from the image's header; 0 for a file that is no image. */
  width: number;
  height: number;
  /** ISO 8601, when it was stored. */
  createdAt: string;
  ocr: OcrState;
}

/** Where reading the attachment's text stands; `lang` and `confidence` once it is `done`. */
export interface OcrState {
  status: OcrStatus;
  lang?: Lang;
  /** Mean word confidence, 0..100. */
  confidence?: number;
  /** ISO 8601, when the status last changed after `pending`. */
  at?: string;
}

/** What a channel hands over to store: the checked image and the message it came with. */
export interface NewAttachment {
  id: string;
  customerId: string;
  sessionId: string;
  conversationId: string;
  messageId: string;
  mime: AttachmentMime;
  bytes: Buffer;
  width: number;
  height: number;
  /** `pending` when OCR will read it, `skipped` when OCR is off (always for a file that is no image). */
  ocr: 'pending' | 'skipped';
  /** The name the customer gave the file (cleaned by the channel), stored sealed; absent: none. */
  name?: string;
}

/** The outcome of reading an image's text. The raw text (unmasked) goes to the store only, sealed. */
export type OcrOutcome = { status: 'done'; text: string; lang: Lang; confidence: number } | { status: 'failed' | 'skipped' };

/** The raw OCR text of an attachment, decrypted (server-side only: staff see it masked). */
export interface OcrText extends OcrState {
  text?: string;
}

/** Where a search page starts: after this attachment in newest-first order. */
export interface SearchCursor {
  createdAt: string;
  id: string;
}

/**
 * The attachment store port (issue 10). Adapters seal the bytes and the OCR text with the customer's
 * data key (AES-256-GCM, the same per-customer keys as the session store, so erasing a customer's key
 * erases their images too), and make OCR text searchable through a blind index of keyed term hashes
 * (server/src/attachments/terms.ts says what a term is) — no plaintext at rest. A method that
 * resolves has made its write durable.
 */
export interface AttachmentStore {
  /**
   * A deterministic attachment id for an upload: a keyed hash (32 hex digits) of what identifies it —
   * e.g. channel, customer, clientMessageId and the SHA-256 of its bytes — so a retried message gets
   * the same id (and the store's idempotency holds), while the id reveals nothing about the image.
   */
  idFor(...parts: string[]): string;
  /**
   * Stores an attachment; idempotent by id (ids derive from the message, so a retried message stores
   * nothing new): `created` is false when it was there already, and the stored record is returned.
   * @throws HuiliuError CUSTOMER_ERASED when the customer has no data key (erased)
   */
  put(attachment: NewAttachment): Promise<{ record: AttachmentRecord; created: boolean }>;
  get(id: string): Promise<AttachmentRecord | null>;
  /** The name the customer gave the file, decrypted; null for an unknown id or one stored without a name. */
  name(id: string): Promise<string | null>;
  /** The attachment's bytes, decrypted; null for an unknown id. TamperError when they were altered. */
  bytes(id: string): Promise<Buffer | null>;
  /**
   * Records what OCR read (text sealed, its terms indexed) or that it failed / was skipped. Replaces
   * an earlier outcome of the same attachment. Returns the record as stored. NOT_FOUND for an unknown id.
   */
  saveOcr(id: string, outcome: OcrOutcome): Promise<AttachmentRecord>;
  /** The OCR state and raw text of each of `ids` that exists (decrypted; for staff views, mask it). */
  ocrText(ids: readonly string[]): Promise<Map<string, OcrText>>;
  /**
   * Attachments whose OCR text has every term of `query` (terms.ts), newest first, at most `limit`
   * (≤ 500), after `before` when given. An empty list for a query with no term.
   */
  search(query: string, options: { limit: number; before?: SearchCursor }): Promise<AttachmentRecord[]>;
  /** The attachment of a message, if it has one. */
  ofMessage(messageId: string): Promise<AttachmentRecord | null>;
  /** Attachments still `pending` (oldest first, at most `limit`): OCR picks them up again after a restart. */
  pendingOcr(limit: number): Promise<AttachmentRecord[]>;
  close(): Promise<void>;
}
