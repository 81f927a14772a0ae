import type { MessageView } from '../../../../../common/api/sessions';
import { NOTE_EVENT_NAME, NoteEventDataSchema } from '../../../../../common/api/supervision';
import { useFormat } from '../../format';
import './supervision.css';
import { useTranslation } from 'react-i18next';

/** True for a `staff.note` message: an internal note or a lead's whisper (issues 15, 16). */
export const isNote = (m: MessageView): boolean => m.kind === 'event' && m.body.name === NOTE_EVENT_NAME;

/**
 * An internal note (yellow, "Internal note / 内部备注") or a lead's whisper ("Whisper from <lead> /
 * 主管悄悄话") in a conversation's timeline: staff only, never sent to the customer.
 */
export function NoteLine({ message }: { message: MessageView }) {
  const { t } = useTranslation('supervision');
  const fmt = useFormat();
  if (message.kind !== 'event') return null;
  const data = NoteEventDataSchema.safeParse(message.body.data);
  if (!data.success) return null;
  const { text, author, whisper, to } = data.data;
  return (
    <li className={whisper ? 'note note--whisper' : 'note'} data-testid={whisper ? 'whisper' : 'internal-note'}>
      <span className="note__label">
        {whisper ? t('whisperFrom', { name: author.name }) : t('note')}
        {whisper && to ? <span className="note__to"> · {t('whisperTo', { name: to.name })}</span> : null}
        {!whisper ? <span className="note__to"> · {t('noteBy', { name: author.name })}</span> : null}
      </span>
      <span className="note__text" dir="auto">
        {text}
      </span>
      <time className="note__time" dateTime={message.receivedAt} title={fmt.dateTime(message.receivedAt)}>
        {fmt.stamp(message.receivedAt)} · #{message.seq}
      </time>
    </li>
  );
}
