import type { OcrView } from '../../../common/api/attachments';
import { maskPii } from '../../../common/privacy/mask';
import { truncateText } from '../../../common/text/text';
import type { Envelope } from '../../../common/message/envelope';
import type { AttachmentStore, OcrText } from './store';

/** Longest OCR text staff are shown (UTF-16 code units; cut by grapheme): OcrViewSchema's bound. */
export const OCR_VIEW_MAX = 20_000;

/**
 * The OCR state of an attachment as staff see it: the text with phone numbers, resident ID numbers,
 * card numbers and e-mail addresses masked (`maskPii`, the loggers' masking), cut to OCR_VIEW_MAX.
 * The raw text never leaves the server.
 */
export function toOcrView(state: OcrText): OcrView {
  return {
    status: state.status,
    ...(state.text !== undefined ? { text: truncateText(maskPii(state.text), OCR_VIEW_MAX, '…') } : {}),
    ...(state.lang ? { lang: state.lang } : {}),
    ...(state.confidence !== undefined ? { confidence: Math.round(state.confidence * 10) / 10 } : {}),
  };
}

/** The OCR view of each image message among `messages`, by message id (what `SessionViews` shows). */
export type MessagesOcr = (messages: readonly Envelope[]) => Promise<Map<string, OcrView>>;

/** Reads the OCR views of image messages from the attachment store (one read per image message, none for others). */
export function messagesOcr(store: Pick<AttachmentStore, 'ocrText'>): MessagesOcr {
  return async (messages) => {
    const images = messages.filter((m): m is Extract<Envelope, { kind: 'image' }> => m.kind === 'image');
    const out = new Map<string, OcrView>();
    if (images.length === 0) return out;
    const texts = await store.ocrText(images.map((m) => m.body.attachmentId));
    for (const m of images) {
      const text = texts.get(m.body.attachmentId);
      if (text) out.set(m.id, toOcrView(text));
    }
    return out;
  };
}
