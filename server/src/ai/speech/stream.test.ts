import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HuiliuError } from '../../../../common/errors/codes';
import { decodeWav } from './audio';
import { PocketsphinxAsr } from './pocketsphinx';
import { ChunkedAsrStream } from './stream';
import type { Asr, PcmAudio, Transcript } from './types';

const CLIPS = join(import.meta.dirname, '../../../../../shared/data/speech-asr-clips');
const clip = decodeWav(readFileSync(join(CLIPS, 'en/librispeech-2830-3980-0043.wav')));

const silence = (seconds: number, rate: number) => new Int16Array(Math.round(seconds * rate));
/** Speech-like sound: a 180 Hz voice whose loudness rises and falls four times a second (syllables). */
const syllables = (seconds: number, rate: number) =>
  Int16Array.from({ length: Math.round(seconds * rate) }, (_, i) =>
    Math.round(6000 * Math.sin((2 * Math.PI * 180 * i) / rate) * Math.abs(Math.sin((2 * Math.PI * 2 * i) / rate))),
  );
const concat = (...parts: Int16Array[]) => {
  const out = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
};
/** Writes `samples` as a media server would: in 20 ms packets. */
const feed = (stream: ChunkedAsrStream, samples: Int16Array, rate: number) => {
  const packet = rate / 50;
  for (let at = 0; at < samples.length; at += packet) stream.write(samples.subarray(at, at + packet));
};

/** An engine that reports what it was given (the cut points are what is tested here, not recognition). */
class RecordingAsr implements Asr {
  readonly engine = 'recording';
  readonly langs = ['en', 'zh'] as const;
  readonly maxSeconds = 30;
  readonly given: number[] = [];
  constructor(private readonly failOn = -1) {}
  async transcribe(audio: PcmAudio): Promise<Transcript> {
    const d = audio.samples.length / audio.sampleRate;
    this.given.push(d);
    if (this.given.length - 1 === this.failOn) throw new HuiliuError('SPEECH_FAILED', 'engine failed');
    return {
      text: `utterance ${this.given.length}`,
      segments: [{ start: 0.1, end: d - 0.1, text: `utterance ${this.given.length}`, confidence: 1 }],
      lang: 'en',
      duration: d,
      engine: this.engine,
    };
  }
}

describe('live transcription of a call, cut at pauses', () => {
  it('cuts a call into utterances at pauses and reports each with call-relative times, in order', async () => {
    const asr = new RecordingAsr();
    const heard: string[] = [];
    const stream = new ChunkedAsrStream(asr, { lang: 'en', sampleRate: 8000, onSegment: (s) => heard.push(`${s.text}@${s.start}`) });
    feed(stream, concat(silence(1, 8000), syllables(2, 8000), silence(1.5, 8000), syllables(1, 8000), silence(0.3, 8000)), 8000);
    const t = await stream.end();
    expect(asr.given).toHaveLength(2);
    expect(t.segments.map((s) => s.text)).toEqual(['utterance 1', 'utterance 2']);
    // The first utterance starts with up to 0.6 s of lead-in before the speech at 1 s.
    expect(t.segments[0]!.start).toBeGreaterThanOrEqual(0.4);
    expect(t.segments[0]!.start).toBeLessThan(1);
    expect(t.segments[1]!.start).toBeGreaterThan(3);
    expect(t.segments[1]!.start).toBeLessThan(4.5);
    expect(heard).toHaveLength(2);
    expect(t.duration).toBeCloseTo(5.8, 1);
    expect(() => stream.write(new Int16Array(10))).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED' }));
  });

  it('with 300 ms pauses (the call tap): a 350 ms gap ends an utterance, a 200 ms one does not; each utterance comes with its PCM', async () => {
    const asr = new RecordingAsr();
    const utterances: { start: number; seconds: number; text: string }[] = [];
    const stream = new ChunkedAsrStream(asr, {
      lang: 'en',
      sampleRate: 8000,
      pauseMs: 300,
      onUtterance: ({ audio, start, transcript }) =>
        void utterances.push({ start, seconds: audio.samples.length / audio.sampleRate, text: transcript.text }),
    });
    feed(
      stream,
      concat(
        silence(0.5, 8000),
        syllables(1, 8000),
        silence(0.2, 8000),
        syllables(1, 8000),
        silence(0.35, 8000),
        syllables(1, 8000),
        silence(0.5, 8000),
      ),
      8000,
    );
    await stream.end();
    expect(utterances.map((u) => u.text)).toEqual(['utterance 1', 'utterance 2']);
    // The first holds both syllable runs and the 200 ms gap between them (2.2 s) plus lead-in and the 300 ms that ended it.
    expect(utterances[0]!.seconds).toBeGreaterThan(2.2);
    expect(utterances[0]!.seconds).toBeLessThan(3.1);
    expect(utterances[1]!.start).toBeGreaterThan(2.6);
    expect(utterances[1]!.start).toBeLessThan(3.1);
    expect(asr.given).toEqual(utterances.map((u) => u.seconds));
  });

  it('cuts speech with no pause at the maximum utterance length, and goes on after an engine failure', async () => {
    const asr = new RecordingAsr(0);
    const errors: string[] = [];
    const stream = new ChunkedAsrStream(asr, { lang: 'en', sampleRate: 8000, maxUtteranceSeconds: 4, onError: (e) => errors.push(e.code) });
    feed(stream, concat(silence(0.5, 8000), syllables(10, 8000)), 8000);
    const t = await stream.end();
    expect(asr.given.length).toBe(3);
    for (const d of asr.given) expect(d).toBeLessThanOrEqual(4.001);
    expect(errors).toEqual(['SPEECH_FAILED']);
    expect(stream.failures).toBe(1);
    expect(t.segments).toHaveLength(2);
  });

  it('transcribes two utterances of a real recording with pocketsphinx as the call goes on', { timeout: 180_000 }, async () => {
    const stream = new ChunkedAsrStream(new PocketsphinxAsr(), { lang: 'en', sampleRate: 16000 });
    feed(stream, concat(clip.samples, silence(1.2, 16000), clip.samples), 16000);
    const t = await stream.end();
    expect(t.segments.map((s) => s.text)).toEqual(['experience proves this', 'experience proves this']);
    expect(t.segments[1]!.start).toBeGreaterThan(clip.samples.length / 16000 + 1);
    expect(t.text).toBe('experience proves this experience proves this');
  });
});
