import type { MessageEmotion } from '../../../../common/api/sessions';
import { NEGATIVE_EMOTIONS, type Emotion } from '../../../../common/ai/types';
import type { TFunction } from 'i18next';
import { useTranslation } from 'react-i18next';

/** The emotions a badge names; `neutral` shows no badge. */
export type ShownEmotion = Exclude<Emotion, 'neutral'>;

const EMOJI: Record<ShownEmotion, string> = {
  anger: '😠',
  disgust: '🤢',
  fear: '😨',
  happiness: '😊',
  sadness: '😢',
  surprise: '😮',
};

/** From this intensity on, a negative emotion marks its queue item for attention (issue 9). */
export const ATTENTION_INTENSITY = 0.6;

/**
 * Below this intensity no badge shows: the model's weak readings (a plain question read as surprise
 * at 0.44, a polite request as anger at 0.48) would make every row noisy.
 */
export const SHOWN_INTENSITY = 0.5;

/** A negative emotion (anger, disgust, fear, sadness) expressed strongly enough to look at first. */
export const needsAttention = (emotion: MessageEmotion | undefined): boolean =>
  emotion !== undefined && NEGATIVE_EMOTIONS.includes(emotion.label) && emotion.intensity >= ATTENTION_INTENSITY;

/** What a badge says to a screen reader and in its tooltip, e.g. "anger 82%" / "愤怒 82%" (`t`: the `desk` namespace's). */
export function emotionCaption(emotion: MessageEmotion & { label: ShownEmotion }, t: TFunction<'desk'>): string {
  return t('emotionCaption', { label: t(`emotions.${emotion.label}`), percent: Math.round(emotion.intensity * 100) });
}

/**
 * A customer message's emotion: emoji, localized name and a small meter of its intensity. Neutral,
 * weak (below `SHOWN_INTENSITY`) or no emotion read shows nothing, so most rows stay quiet.
 */
export function EmotionBadge({ emotion }: { emotion: MessageEmotion | undefined }) {
  const { t } = useTranslation('desk');
  if (!emotion || emotion.label === 'neutral' || emotion.intensity < SHOWN_INTENSITY) return null;
  const shown = emotion as MessageEmotion & { label: ShownEmotion };
  const caption = emotionCaption(shown, t);
  const percent = Math.round(emotion.intensity * 100);
  return (
    <span
      className={`emo emo--${shown.label}${needsAttention(emotion) ? ' emo--attention' : ''}`}
      role="img"
      aria-label={caption}
      title={caption}
      data-testid="emotion"
      data-emotion={shown.label}
    >
      <span className="emo__emoji">{EMOJI[shown.label]}</span>
      <span className="emo__label">{t(`emotions.${shown.label}`)}</span>
      <span className="emo__meter">
        <span className="emo__fill" style={{ width: `${percent}%` }} />
      </span>
    </span>
  );
}
