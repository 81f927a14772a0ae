import { useEffect, useState } from 'react';
import type { MessageView } from '../../../../common/api/sessions';
import type { OcrView } from '../../../../common/api/attachments';
import { useWorkstation } from '../context';

type ImageMessageView = Extract<MessageView, { kind: 'image' }>;

/** What the line under an image says while or after its text is read (issue 10). */
export function ocrNote(ocr: OcrView | undefined): string | null {
  if (!ocr) return null;
  switch (ocr.status) {
    case 'pending':
      return 'Reading the text in this image…';
    case 'failed':
      return 'The text in this image could not be read.';
    case 'skipped':
      return 'The text in this image was not read (OCR off or busy).';
    case 'done':
      return ocr.text ? null : 'No text found in this image.';
  }
}

/**
 * A customer's image in the conversation (issue 10): the picture, fetched with the agent's token (the
 * attachment route checks the session's skill group) and shown from an object URL; its caption; and
 * the text OCR read from it, masked by the server, under it.
 */
export function ImageMessage({ message }: { message: ImageMessageView }) {
  const token = useWorkstation((s) => s.token);
  const [src, setSrc] = useState<string | null>(null);
  const [failed, setFailed] = useState(false);
  const { attachmentId, caption } = message.body;

  useEffect(() => {
    if (!token) return;
    let url: string | null = null;
    let cancelled = false;
    setFailed(false);
    fetch(`/api/v1/attachments/${attachmentId}`, { headers: { authorization: `Bearer ${token}` } })
      .then(async (res) => {
        if (!res.ok) throw new Error(String(res.status));
        const blob = await res.blob();
        if (cancelled) return;
        url = URL.createObjectURL(blob);
        setSrc(url);
      })
      .catch(() => {
        if (!cancelled) setFailed(true);
      });
    return () => {
      cancelled = true;
      if (url) URL.revokeObjectURL(url);
    };
  }, [attachmentId, token]);

  const note = ocrNote(message.ocr);
  return (
    <span className="image-message" data-testid="image-message">
      {src ? (
        <img className="image-message__img" src={src} alt={caption ? `Image: ${caption}` : 'Image from the customer'} />
      ) : (
        <span className="image-message__placeholder">{failed ? 'The image could not be loaded.' : 'Loading image…'}</span>
      )}
      {caption ? (
        <span className="bubble__text" dir="auto">
          {caption}
        </span>
      ) : null}
      {message.ocr?.status === 'done' && message.ocr.text ? (
        <span className="image-message__ocr" data-testid="ocr-text">
          <span className="image-message__ocr-label">
            Text in image{message.ocr.confidence !== undefined ? ` · ${Math.round(message.ocr.confidence)}% sure` : ''}
          </span>
          <span dir="auto">{message.ocr.text}</span>
        </span>
      ) : null}
      {note ? (
        <span className="image-message__note" data-testid="ocr-note">
          {note}
        </span>
      ) : null}
    </span>
  );
}
