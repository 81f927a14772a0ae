import { z } from 'zod';
import { EMOTIONS, EmotionSchema, type Emotion, type EmotionResult } from '../ai/types';

/**
 * A live call transcript in the message format (issue 18, docs/voice.md): each utterance the caller
 * says is an inbound `text` message of the call's SP session whose `meta` carries these fields, so it
 * is stored (encrypted), published, shown and scored like any customer message and still known for
 * what it is. Meta values are flat (DESIGN §4 `meta`: strings, numbers, booleans), so the speech
 * emotion's scores travel as one JSON string.
 *
 * | meta key | value |
 * |---|---|
 * | `transcript` | `true`: this message is what the caller said, heard by ASR (not typed) |
 * | `callKey` | the call's key (`callKey(Call-ID)`) |
 * | `asrEngine` | the engine and model, e.g. `pocketsphinx@en-us` |
 * | `start`, `end` | seconds from the start of the call's media |
 * | `confidence` | the engine's mean confidence 0..1, or null |
 * | `emotion`, `emotionIntensity` | the speech emotion (prosody + the transcript's text emotion) |
 * | `emotionScores` | JSON `{anger, disgust, fear, happiness, sadness, surprise, neutral}`, sums to 1 |
 * | `arousal` | prosody arousal 0..1 |
 */
export interface TranscriptMetaInput {
  callKey: string;
  engine: string;
  start: number;
  end: number;
  confidence: number | null;
  emotion: EmotionResult & { arousal: number };
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;

/** The `meta` of a transcript message (table above). */
export function transcriptMeta(t: TranscriptMetaInput): Record<string, string | number | boolean | null> {
  return {
    transcript: true,
    callKey: t.callKey,
    asrEngine: t.engine.slice(0, 128),
    start: round3(t.start),
    end: round3(t.end),
    confidence: t.confidence === null ? null : round3(t.confidence),
    emotion: t.emotion.label,
    emotionIntensity: round3(t.emotion.intensity),
    emotionScores: JSON.stringify(t.emotion.scores),
    arousal: round3(t.emotion.arousal),
  };
}

const ScoresSchema = z.object(Object.fromEntries(EMOTIONS.map((e) => [e, z.number().min(0).max(1)])) as Record<Emotion, z.ZodNumber>);

/** True when a message's meta marks it as a call transcript. */
export const isTranscript = (meta: Record<string, unknown> | undefined): boolean => meta?.['transcript'] === true;

/**
 * The speech emotion a transcript message carries, in the shape the router's difficulty reads
 * (`EmotionResult`), or null for any other message or a meta that does not parse (then the text's
 * own emotion is read, as for a chat).
 */
export function transcriptEmotionOf(meta: Record<string, unknown> | undefined): EmotionResult | null {
  if (!isTranscript(meta)) return null;
  const label = EmotionSchema.safeParse(meta!['emotion']);
  const intensity = meta!['emotionIntensity'];
  const raw = meta!['emotionScores'];
  if (!label.success || typeof intensity !== 'number' || intensity < 0 || intensity > 1 || typeof raw !== 'string') return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return null;
  }
  const scores = ScoresSchema.safeParse(parsed);
  return scores.success ? { label: label.data, intensity, scores: scores.data } : null;
}
