import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeWav } from './audio';
import { EspeakTts } from './espeak';
import { parsePocketsphinxOutput, PocketsphinxAsr } from './pocketsphinx';
import { wordErrors } from './wer';

/** The shared test clips (SOURCE.md there: LibriSpeech test-clean, CC BY 4.0). */
const CLIPS = join(import.meta.dirname, '../../../../../shared/data/speech-asr-clips');
const clip = (name: string) => decodeWav(readFileSync(join(CLIPS, name)));

// pocketsphinx needs 2–4 s of CPU per clip; on a shared, loaded machine it can take far longer.
describe('pocketsphinx (offline English ASR from Debian)', { timeout: 180_000 }, () => {
  const asr = new PocketsphinxAsr();

  it('transcribes a LibriSpeech clip with word times and confidences', async () => {
    const t = await asr.transcribe(clip('en/librispeech-2830-3980-0043.wav'), { lang: 'en' });
    expect(t.text).toBe('experience proves this');
    expect(t.engine).toBe('pocketsphinx@en-us');
    expect(t.duration).toBeCloseTo(1.98, 1);
    expect(t.segments).toHaveLength(1);
    const s = t.segments[0]!;
    expect(s.start).toBeGreaterThan(0.2);
    expect(s.end).toBeLessThanOrEqual(t.duration);
    expect(s.confidence).toBeGreaterThan(0.5);
    expect(s.confidence).toBeLessThanOrEqual(1);
  });

  it('parses utterances, dropping fillers and alternative-pronunciation marks', () => {
    const out = [
      'there was',
      '<s> 0.000 0.100 0.99',
      'there 0.110 0.250 0.6',
      '<sil> 0.250 0.300 1.0',
      'was(2) 0.260 0.390 0.8',
      '</s> 0.400 0.500 1.0',
      '[NOISE] 0.600 0.700 1.0',
      '<s> 1.000 1.100 1.0',
      'it 1.200 1.300 1.0',
      '</s> 1.300 1.400 1.0',
    ].join('\n');
    expect(parsePocketsphinxOutput(out)).toEqual([
      { start: 0.11, end: 0.39, text: 'there was', confidence: 0.7 },
      { start: 1.2, end: 1.3, text: 'it', confidence: 1 },
    ]);
  });

  it('refuses Mandarin, audio over its limit, and a missing program or model with stable codes', async () => {
    const audio = clip('en/librispeech-2830-3980-0043.wav');
    await expect(asr.transcribe(audio, { lang: 'zh' })).rejects.toMatchObject({ code: 'SPEECH_INPUT_UNSUPPORTED' });
    await expect(new PocketsphinxAsr({ maxSeconds: 1 }).transcribe(audio, { lang: 'en' })).rejects.toMatchObject({
      code: 'SPEECH_INPUT_TOO_LARGE',
    });
    await expect(
      new PocketsphinxAsr({ binary: '/nonexistent/pocketsphinx_continuous' }).transcribe(audio, { lang: 'en' }),
    ).rejects.toMatchObject({
      code: 'SPEECH_ENGINE_UNAVAILABLE',
    });
    await expect(new PocketsphinxAsr({ modelDir: '/nonexistent/model' }).transcribe(audio, { lang: 'en' })).rejects.toMatchObject({
      code: 'SPEECH_ENGINE_UNAVAILABLE',
    });
    await expect(new PocketsphinxAsr({ timeoutMs: 100 }).transcribe(audio, { lang: 'en' })).rejects.toMatchObject({
      code: 'SPEECH_TIMEOUT',
    });
  });
});

describe('espeak-ng (offline TTS from Debian)', () => {
  const tts = new EspeakTts();

  it('speaks English and Mandarin as 22,050 Hz mono WAV', async () => {
    const en = await tts.synthesize({ text: 'You are number three in the queue.', lang: 'en' });
    expect(en.sampleRate).toBe(22050);
    expect(en.engine).toBe('espeak-ng@en-us');
    expect(en.duration).toBeGreaterThan(1);
    expect(en.duration).toBeLessThan(5);
    expect(decodeWav(en.wav).samples.length).toBe(en.samples.length);
    const zh = await tts.synthesize({ text: '您好，您前面还有三位客户。', lang: 'zh' });
    expect(zh.engine).toBe('espeak-ng@cmn');
    expect(zh.duration).toBeGreaterThan(1);
    const slow = await tts.synthesize({ text: 'You are number three in the queue.', lang: 'en', rate: 0.5 });
    expect(slow.duration).toBeGreaterThan(en.duration * 1.5);
  });

  it('speaks text that looks like options or markup as words, never as arguments', async () => {
    const a = await tts.synthesize({ text: '--version -w /tmp/x.wav <speak>hi</speak>', lang: 'en' });
    expect(a.duration).toBeGreaterThan(1);
  });

  it('refuses empty or oversized text, a bad voice name and a missing program with stable codes', async () => {
    await expect(tts.synthesize({ text: ' \u0001 ', lang: 'en' })).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await expect(new EspeakTts({ maxChars: 10 }).synthesize({ text: 'This sentence is too long.', lang: 'en' })).rejects.toMatchObject({
      code: 'SPEECH_INPUT_TOO_LARGE',
    });
    await expect(tts.synthesize({ text: 'hello', lang: 'en', voice: '--stdout' })).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await expect(new EspeakTts({ binary: '/nonexistent/espeak-ng' }).synthesize({ text: 'hello', lang: 'en' })).rejects.toMatchObject({
      code: 'SPEECH_ENGINE_UNAVAILABLE',
    });
    await expect(new EspeakTts({ timeoutMs: 1 }).synthesize({ text: 'hello '.repeat(200), lang: 'en' })).rejects.toMatchObject({
      code: 'SPEECH_TIMEOUT',
    });
  });
});

describe('round trip: espeak-ng speaks, pocketsphinx listens', { timeout: 180_000 }, () => {
  it('recognises a short English sentence with a bounded word error rate', async () => {
    const sentence = 'I want to speak to an agent';
    const spoken = await new EspeakTts().synthesize({ text: sentence, lang: 'en' });
    const heard = await new PocketsphinxAsr().transcribe(spoken, { lang: 'en' });
    const { errors, reference } = wordErrors(sentence, heard.text);
    // Measured here: 3 of 7 words wrong ("want to speak to a dude"): formant speech is far from the
    // voices pocketsphinx was trained on. The bound catches a broken pipe (wrong rate, byte order,
    // no dither, empty audio: all of which give 5–7 of 7 wrong), not quality.
    expect(errors / reference, heard.text).toBeLessThanOrEqual(0.5);
    expect(heard.text).toMatch(/\bspeak to\b/);
  });
});
