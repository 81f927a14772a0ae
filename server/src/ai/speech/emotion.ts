import { EMOTIONS, type Emotion, type EmotionResult } from '../../../../common/ai/types';
import { prosodyFeatures } from './prosody';
import type { ProsodyFeatures, SpeechEmotion, SpeechEmotionInput, SpeechEmotionResult } from './types';

/**
 * Emotion from speech (issue 18): the transcript's text emotion (the language core's six emotions +
 * neutral, server/src/ai/emotion.ts) says *which* emotion; the voice's prosody says *how aroused*
 * the speaker is. The rule, documented in docs/speech.md:
 *
 * 1. Arousal a = σ(1.5 · (0.40·zLoud + 0.35·zPitchRange + 0.25·zRate)), each z the feature's distance
 *    from the caller's baseline (or the population norm, `PROSODY_NORMS`) in units of its spread.
 * 2. Prosody scores P = h·HIGH + l·LOW + (1 − h − l)·MID with h = max(0, 2a − 1) and l = max(0, 1 − 2a):
 *    loud, fast, wide speech leans to anger (then surprise, happiness, fear); quiet, slow, flat speech
 *    to sadness and neutral.
 * 3. scores = (1 − w)·T + w·P with the text scores T and w = `prosodyWeight` (0.35); without a
 *    transcript w = 1; with less than 0.5 s of voiced speech prosody is unmeasurable and w = 0.
 * 4. intensity (0 for neutral) = max(text intensity if the text chose the same label,
 *    0.6·(1 − scores.neutral) + 0.4·(h for anger/fear/happiness/surprise, l for sadness)).
 */

/** Population norms of the features and their spreads (telephone and read speech, espeak-ng prompts). */
export const PROSODY_NORMS = {
  rmsDb: { mean: -24, spread: 6 },
  pitchSdSemitones: { mean: 2.5, spread: 1.5 },
  syllablesPerSecond: { mean: 4, spread: 1 },
} as const;

export const AROUSAL_WEIGHTS = { loudness: 0.4, pitchRange: 0.35, rate: 0.25 } as const;
export const DEFAULT_PROSODY_WEIGHT = 0.35;
/** Less voiced speech than this (seconds) and prosody is not judged. */
export const MIN_VOICED_SECONDS = 0.5;

type Dist = Record<Emotion, number>;
const dist = (d: Partial<Dist>): Dist => Object.fromEntries(EMOTIONS.map((e) => [e, d[e] ?? 0])) as Dist;
const HIGH = dist({ anger: 0.45, surprise: 0.15, happiness: 0.15, fear: 0.15, disgust: 0.05, neutral: 0.05 });
const LOW = dist({ sadness: 0.55, neutral: 0.35, disgust: 0.05, fear: 0.05 });
const MID = dist({ neutral: 0.7, anger: 0.05, disgust: 0.05, fear: 0.05, happiness: 0.05, sadness: 0.05, surprise: 0.05 });
const HIGH_AROUSAL: readonly Emotion[] = ['anger', 'fear', 'happiness', 'surprise'];

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
const round4 = (x: number) => Math.round(x * 1e4) / 1e4;
const clamp01 = (x: number) => Math.min(1, Math.max(0, x));

/** Arousal 0..1 of `features` against `baseline` (absent: `PROSODY_NORMS`); 0.5 at the baseline. */
export function arousalOf(features: ProsodyFeatures, baseline?: SpeechEmotionInput['baseline']): number {
  const N = PROSODY_NORMS;
  const z = (x: number, mean: number, spread: number) => Math.max(-3, Math.min(3, (x - mean) / spread));
  const zLoud = z(features.rmsDb, baseline?.rmsDb ?? N.rmsDb.mean, N.rmsDb.spread);
  const zPitch = z(features.pitchSdSemitones, baseline?.pitchSdSemitones ?? N.pitchSdSemitones.mean, N.pitchSdSemitones.spread);
  const zRate = z(features.syllablesPerSecond, baseline?.syllablesPerSecond ?? N.syllablesPerSecond.mean, N.syllablesPerSecond.spread);
  const W = AROUSAL_WEIGHTS;
  return round4(sigmoid(1.5 * (W.loudness * zLoud + W.pitchRange * zPitch + W.rate * zRate)));
}

export interface ProsodyTextEmotionOptions {
  /** The text emotion of a transcript: the language core's (`(t) => core.emotion(t)`). */
  textEmotion: (text: string) => EmotionResult;
  /** Weight of prosody against the text, 0..1 (default 0.35). */
  prosodyWeight?: number;
}

/** The `SpeechEmotion` of the rule above. */
export class ProsodyTextEmotion implements SpeechEmotion {
  private readonly weight: number;

  constructor(private readonly options: ProsodyTextEmotionOptions) {
    this.weight = clamp01(options.prosodyWeight ?? DEFAULT_PROSODY_WEIGHT);
  }

  analyze(input: SpeechEmotionInput): SpeechEmotionResult {
    const transcript = input.transcript?.trim() ? input.transcript : undefined;
    const features = prosodyFeatures(input.audio, transcript);
    const measurable = features.voicedSeconds >= MIN_VOICED_SECONDS;
    const arousal = measurable ? arousalOf(features, input.baseline) : 0.5;
    const h = Math.max(0, 2 * arousal - 1);
    const l = Math.max(0, 1 - 2 * arousal);
    const prosody = dist({});
    for (const e of EMOTIONS) prosody[e] = h * HIGH[e] + l * LOW[e] + (1 - h - l) * MID[e];

    const text = transcript ? this.options.textEmotion(transcript) : null;
    const w = !measurable ? 0 : text ? this.weight : 1;
    const scores = dist({});
    for (const e of EMOTIONS) scores[e] = (1 - w) * (text ? text.scores[e] : MID[e]) + w * prosody[e];
    const total = EMOTIONS.reduce((s, e) => s + scores[e], 0);
    let label: Emotion = 'neutral';
    for (const e of EMOTIONS) {
      scores[e] = round4(scores[e] / total);
      if (scores[e] > scores[label]) label = e;
    }
    let intensity = 0;
    if (label !== 'neutral') {
      const cue = HIGH_AROUSAL.includes(label) ? h : label === 'sadness' ? l : 0;
      intensity = clamp01(0.6 * (1 - scores.neutral) + 0.4 * cue);
      if (text && text.label === label) intensity = Math.max(intensity, text.intensity);
    }
    return {
      label,
      intensity: round4(intensity),
      scores,
      arousal,
      features,
      text: text ? { label: text.label, intensity: text.intensity } : null,
      prosodyWeight: w,
    };
  }
}

/**
 * The emotion shape the router and the language core use (`EmotionResult`, common/ai/types.ts) of a
 * speech emotion: what the telephony side passes as `emotion` to `assessDifficulty` (or stores as
 * the message's emotion), so a caller's voice raises difficulty exactly as a customer's angry text does.
 */
export function toRouterEmotion(result: SpeechEmotionResult): EmotionResult {
  return { label: result.label, intensity: result.intensity, scores: { ...result.scores } };
}
