import { useState } from 'react';
import type { MessageView } from '../../../../common/api/sessions';
import type { TFunction } from 'i18next';
import { useTranslation } from 'react-i18next';
import { useWorkstation } from '../context';

type FileMessageView = Extract<MessageView, { kind: 'file' }>;

/** A file size for people in the UI's language: bytes, KB or MB (1 KB = 1024 bytes, one decimal). */
export function fileSize(bytes: number, t: TFunction<'desk'>): string {
  if (bytes < 1024) return t('file.bytes', { value: bytes });
  if (bytes < 1024 * 1024) return t('file.kb', { value: bytes / 1024 });
  return t('file.mb', { value: bytes / 1024 / 1024 });
}

/**
 * A customer's file that is no image (issue 13: a web visitor's PDF or text file): a download link.
 * The file is fetched with the agent's token (the attachment route checks the session's skill group
 * and answers it as a download, never rendered) and handed to the browser as a download.
 */
export function FileMessage({ message }: { message: FileMessageView }) {
  const token = useWorkstation((s) => s.token);
  const { t } = useTranslation('desk');
  const [state, setState] = useState<'idle' | 'loading' | 'failed'>('idle');
  const { attachmentId, name, size } = message.body;

  const download = async () => {
    if (!token || state === 'loading') return;
    setState('loading');
    try {
      const res = await fetch(`/api/v1/attachments/${attachmentId}`, { headers: { authorization: `Bearer ${token}` } });
      if (!res.ok) throw new Error(String(res.status));
      const url = URL.createObjectURL(await res.blob());
      const a = document.createElement('a');
      a.href = url;
      a.download = name;
      a.rel = 'noopener';
      a.click();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
      setState('idle');
    } catch {
      setState('failed');
    }
  };

  return (
    <span className="file-message" data-testid="file-message">
      <button type="button" className="linklike" onClick={() => void download()} disabled={state === 'loading'} dir="auto">
        {state === 'loading' ? t('file.downloading') : t('file.download', { name, size: fileSize(size, t) })}
      </button>
      {state === 'failed' ? (
        <span className="error" role="alert">
          {' '}
          {t('file.failed')}
        </span>
      ) : null}
    </span>
  );
}
