import { beforeAll, describe, expect, it } from 'vitest';
import { EmotionResultSchema } from '../../../../common/ai/types';
import { loadEmotionClassifier } from '../core';
import { assessDifficulty } from '../difficulty';
import type { IntentPrediction } from '../intent';
import { arousalOf, ProsodyTextEmotion, toRouterEmotion } from './emotion';
import { EspeakTts } from './espeak';
import { prosodyFeatures, yinPitch } from './prosody';
import type { PcmAudio } from './types';

const classifier = loadEmotionClassifier();
const emotion = new ProsodyTextEmotion({ textEmotion: (t) => classifier.classify(t) });
const tts = new EspeakTts();
const COMPLAINT = 'I have been waiting for an hour and nobody has called me back';

/** The sentence spoken in `parts.length` pieces, each with its own pitch (0..99), loudness (0..200) and rate. */
async function speak(text: string, parts: { pitch: number; amplitude: number; rate: number }[]): Promise<PcmAudio> {
  const words = text.split(' ');
  const per = Math.ceil(words.length / parts.length);
  const pieces = await Promise.all(
    parts.map((p, i) => tts.synthesize({ text: words.slice(i * per, (i + 1) * per).join(' '), lang: 'en', ...p })),
  );
  const samples = new Int16Array(pieces.reduce((n, p) => n + p.samples.length, 0));
  let at = 0;
  for (const p of pieces) {
    samples.set(p.samples, at);
    at += p.samples.length;
  }
  return { samples, sampleRate: pieces[0]!.sampleRate };
}

let agitated: PcmAudio;
let flat: PcmAudio;
beforeAll(async () => {
  // Loud, fast, jumping between low and high pitch vs quiet, slow, one pitch: the same words.
  agitated = await speak(COMPLAINT, [
    { pitch: 30, amplitude: 200, rate: 1.6 },
    { pitch: 95, amplitude: 200, rate: 1.6 },
    { pitch: 20, amplitude: 200, rate: 1.6 },
    { pitch: 99, amplitude: 200, rate: 1.6 },
  ]);
  flat = await speak(COMPLAINT, [{ pitch: 40, amplitude: 25, rate: 0.6 }]);
});

describe('prosody features from PCM', () => {
  it('finds the pitch of a voiced frame by YIN within 1 %', () => {
    for (const hz of [85, 120, 220, 350]) {
      // A voice-like tone: the fundamental plus two weaker harmonics.
      const frame = Float64Array.from(
        { length: 320 },
        (_, i) =>
          Math.sin((2 * Math.PI * hz * i) / 8000) +
          0.5 * Math.sin((4 * Math.PI * hz * i) / 8000) +
          0.25 * Math.sin((6 * Math.PI * hz * i) / 8000),
      );
      expect(Math.abs(yinPitch(frame, 8000)! - hz) / hz).toBeLessThan(0.01);
    }
    let seed = 7;
    const noise = Float64Array.from({ length: 320 }, () => ((seed = (seed * 16807) % 2147483647) / 2147483647) * 2 - 1);
    expect(yinPitch(noise, 8000)).toBeNull();
  });

  it('reads silence as silence', () => {
    const f = prosodyFeatures({ samples: new Int16Array(16000), sampleRate: 16000 });
    expect(f).toMatchObject({ duration: 1, voicedSeconds: 0, rmsDb: -96, pitchHz: 0, pitchSdSemitones: 0, syllablesPerSecond: 0 });
  });

  it('measures loud, fast, wide-ranging speech as louder, faster and wider than flat quiet speech', () => {
    const a = prosodyFeatures(agitated, COMPLAINT);
    const f = prosodyFeatures(flat, COMPLAINT);
    expect(a.rmsDb - f.rmsDb).toBeGreaterThan(12);
    expect(a.pitchSdSemitones).toBeGreaterThan(2 * f.pitchSdSemitones);
    expect(a.syllablesPerSecond).toBeGreaterThan(f.syllablesPerSecond);
    expect(a.wordsPerSecond!).toBeGreaterThan(1.5 * f.wordsPerSecond!);
    expect(arousalOf(a)).toBeGreaterThan(0.8);
    expect(arousalOf(f)).toBeLessThan(0.3);
    // Against a caller's own (loud, fast) baseline the same agitated speech is less aroused.
    expect(arousalOf(a, { rmsDb: a.rmsDb, pitchSdSemitones: a.pitchSdSemitones, syllablesPerSecond: a.syllablesPerSecond })).toBeCloseTo(
      0.5,
      5,
    );
  });
});

describe('emotion from speech: prosody combined with the text emotion of the transcript', () => {
  it('hears the same complaint as anger when shouted and as sadness when muttered', () => {
    const loud = emotion.analyze({ audio: agitated, transcript: COMPLAINT });
    const quiet = emotion.analyze({ audio: flat, transcript: COMPLAINT });
    expect(loud.label).toBe('anger');
    expect(quiet.label).toBe('sadness');
    expect(loud.scores.anger).toBeGreaterThan(quiet.scores.anger + 0.1);
    expect(loud.prosodyWeight).toBe(0.35);
    expect(loud.text?.label).toBe(quiet.text?.label);
    for (const r of [loud, quiet]) expect(Object.values(r.scores).reduce((s, x) => s + x, 0)).toBeCloseTo(1, 3);
  });

  it('keeps what the words say when they are clearly positive, and uses prosody alone without a transcript', () => {
    const thanks = emotion.analyze({ audio: agitated, transcript: 'Thank you so much, that is wonderful' });
    expect(thanks.label).toBe('happiness');
    const voiceOnly = emotion.analyze({ audio: agitated });
    expect(voiceOnly.text).toBeNull();
    expect(voiceOnly.prosodyWeight).toBe(1);
    expect(voiceOnly.label).toBe('anger');
    expect(emotion.analyze({ audio: flat }).label).not.toBe('anger');
  });

  it('ignores prosody when there is too little voiced speech to judge', () => {
    const r = emotion.analyze({
      audio: { samples: new Int16Array(8000), sampleRate: 8000 },
      transcript: 'This is outrageous, I am furious!',
    });
    expect(r.prosodyWeight).toBe(0);
    expect(r.arousal).toBe(0.5);
    expect(r.label).toBe(classifier.classify('This is outrageous, I am furious!').label);
  });

  it('gives the router the text-emotion shape, so a shouted complaint raises difficulty more than a muttered one', () => {
    const intent: IntentPrediction = {
      label: 'oos',
      confidence: 0,
      outOfScope: true,
      candidates: [],
      margin: 0,
      oosProbability: 1,
      likelyIntents: 0,
    };
    const points = (audio: PcmAudio) => {
      const e = toRouterEmotion(emotion.analyze({ audio, transcript: COMPLAINT }));
      expect(EmotionResultSchema.safeParse(e).success).toBe(true);
      const d = assessDifficulty({ text: COMPLAINT, intent, emotion: e, wantsHuman: false, channel: 'SP' });
      return d.reasons.find((r) => r.factor === 'negative-emotion')!.points!;
    };
    expect(points(agitated)).toBeGreaterThan(points(flat));
    expect(points(agitated)).toBeGreaterThan(15);
  });
});
