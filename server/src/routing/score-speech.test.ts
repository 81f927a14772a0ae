import { describe, expect, it } from 'vitest';
import { EMOTIONS, type Emotion } from '../../../common/ai/types';
import { transcriptEmotionOf, transcriptMeta } from '../../../common/message/transcript';
import { DEFAULT_ROUTING_CONFIG } from '../../../common/routing/types';
import { LanguageCore } from '../ai/core';
import { ProsodyTextEmotion, toRouterEmotion } from '../ai/speech/emotion';
import { scoreContact } from './score';

/** A voice of `seconds` at 180 Hz (±`jump` semitones every 0.2 s), amplitude `amp`, syllables at `rate` Hz. */
function voice(seconds: number, amp: number, jump: number, rate: number) {
  const sr = 8000;
  return {
    sampleRate: sr,
    samples: Int16Array.from({ length: seconds * sr }, (_, i) => {
      const t = i / sr;
      const f = 180 * 2 ** ((Math.floor(t / 0.2) % 2 ? jump : -jump) / 12);
      return Math.round(amp * Math.sin(2 * Math.PI * f * t) * Math.abs(Math.sin(Math.PI * rate * t)));
    }),
  };
}

const core = new LanguageCore();
const speech = new ProsodyTextEmotion({ textEmotion: (t) => core.emotion(t) });
const scores = (label: Emotion, p: number) =>
  Object.fromEntries(EMOTIONS.map((e) => [e, e === label ? p : (1 - p) / 6])) as Record<Emotion, number>;

describe('speech emotion in the router difficulty (issue 18)', () => {
  it('carries a transcript’s speech emotion in message meta and reads it back; anything else reads as none', () => {
    const meta = transcriptMeta({
      callKey: 'k',
      engine: 'pocketsphinx@en-us',
      start: 1.23456,
      end: 2.5,
      confidence: null,
      emotion: { label: 'anger', intensity: 0.8, scores: scores('anger', 0.7), arousal: 0.9 },
    });
    expect(meta).toMatchObject({ transcript: true, start: 1.235, emotion: 'anger', emotionIntensity: 0.8, arousal: 0.9 });
    expect(transcriptEmotionOf(meta)).toEqual({ label: 'anger', intensity: 0.8, scores: scores('anger', 0.7) });
    expect(transcriptEmotionOf({})).toBeNull();
    expect(transcriptEmotionOf({ ...meta, transcript: false })).toBeNull();
    expect(transcriptEmotionOf({ ...meta, emotionScores: '{not json' })).toBeNull();
    expect(transcriptEmotionOf({ ...meta, emotion: 'rage' })).toBeNull();
    expect(transcriptEmotionOf({ ...meta, emotionIntensity: 3 })).toBeNull();
  });

  it('an angry-sounding caller scores harder than the same words said calmly, through the language core as text emotion does', () => {
    const words = 'I have been waiting for an hour and nobody called me back';
    const loud = speech.analyze({ audio: voice(3, 16000, 4, 6), transcript: words });
    const calm = speech.analyze({ audio: voice(3, 1500, 0, 3), transcript: words });
    expect(loud.arousal).toBeGreaterThan(calm.arousal);
    const analyze = (emotion?: ReturnType<typeof toRouterEmotion>) =>
      core.analyze(words, { channel: 'SP', contacts30d: 1, ...(emotion ? { emotion } : {}) });
    const heardLoud = analyze(toRouterEmotion(loud));
    const heardCalm = analyze(toRouterEmotion(calm));
    // The core uses the emotion given instead of reading the text's own.
    expect(heardLoud.emotion).toEqual(toRouterEmotion(loud));
    expect(heardLoud.difficulty).toBeGreaterThanOrEqual(heardCalm.difficulty);
    const negative = (a: typeof heardLoud) => a.factors.find((f) => f.factor === 'negative-emotion')!.points ?? 0;
    // Measured: loud → anger 0.83 (arousal 0.96) adds 20.85 negative-emotion points; calm → neutral adds none.
    expect(loud.label).toBe('anger');
    expect(calm.label).toBe('neutral');
    expect(negative(heardLoud)).toBeCloseTo(25 * loud.intensity, 1);
    expect(negative(heardCalm)).toBe(0);
  });

  it('without a language model, the surface difficulty counts a negative heard emotion like negative words (25 × intensity at most)', () => {
    const base = { value: { spend: 0, csat: null, contacts30d: 1 }, config: DEFAULT_ROUTING_CONFIG };
    const plain = scoreContact({ ...base, difficulty: { text: 'my order', channel: 'SP', contacts30d: 1 } });
    const angry = scoreContact({
      ...base,
      difficulty: {
        text: 'my order',
        channel: 'SP',
        contacts30d: 1,
        emotion: { label: 'anger', intensity: 0.8, scores: scores('anger', 0.7) },
      },
    });
    const happy = scoreContact({
      ...base,
      difficulty: {
        text: 'my order',
        channel: 'SP',
        contacts30d: 1,
        emotion: { label: 'happiness', intensity: 0.9, scores: scores('happiness', 0.7) },
      },
    });
    expect(angry.difficulty.score - plain.difficulty.score).toBe(20);
    expect(happy.difficulty.score).toBe(plain.difficulty.score);
    expect(angry.difficulty.reasons.find((r) => r.factor === 'negative-emotion')!.note).toMatch(/anger heard at intensity 0\.8/);
  });
});
