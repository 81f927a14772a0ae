import { useEffect, useState } from 'react';
import type { MessageView } from '../../../../common/api/sessions';
import type { OcrView } from '../../../../common/api/attachments';
import type { TFunction } from 'i18next';
import { useTranslation } from 'react-i18next';
import { useWorkstation } from '../context';

type ImageMessageView = Extract<MessageView, { kind: 'image' }>;

/** What the line under an image says while or after its text is read (issue 10); `t`: the `desk` namespace's. */
export function ocrNote(ocr: OcrView | undefined, t: TFunction<'desk'>): string | null {
  if (!ocr) return null;
  switch (ocr.status) {
    case 'pending':
      return t('image.ocr.pending');
    case 'failed':
      return t('image.ocr.failed');
    case 'skipped':
      return t('image.ocr.skipped');
    case 'done':
      return ocr.text ? null : t('image.ocr.empty');
  }
}

/**
 * A customer's image in the conversation (issue 10): the picture, fetched with the agent's token (the
 * attachment route checks the session's skill group) and shown from an object URL; its caption; and
 * the text OCR read from it, masked by the server, under it.
 */
export function ImageMessage({ message }: { message: ImageMessageView }) {
  const token = useWorkstation((s) => s.token);
  const { t } = useTranslation('desk');
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

  const note = ocrNote(message.ocr, t);
  return (
    <span className="image-message" data-testid="image-message">
      {src ? (
        <img className="image-message__img" src={src} alt={caption ? t('image.altCaption', { caption }) : t('image.alt')} />
      ) : (
        <span className="image-message__placeholder">{failed ? t('image.failed') : t('image.loading')}</span>
      )}
      {caption ? (
        <span className="bubble__text" dir="auto">
          {caption}
        </span>
      ) : null}
      {message.ocr?.status === 'done' && message.ocr.text ? (
        <span className="image-message__ocr" data-testid="ocr-text">
          <span className="image-message__ocr-label">
            {message.ocr.confidence !== undefined
              ? t('image.textInSure', { percent: Math.round(message.ocr.confidence) })
              : t('image.textIn')}
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
