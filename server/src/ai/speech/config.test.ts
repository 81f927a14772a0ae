import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../config/config';
import { createSpeechEngines } from './index';

const dir = mkdtempSync(join(tmpdir(), 'huiliu-speech-cfg-'));
let n = 0;
/** The server's configuration with `yaml` as HUILIU_CONFIG. */
const load = (yaml?: string) => {
  const env: Record<string, string> = {};
  if (yaml !== undefined) {
    const file = join(dir, `c${n++}.yaml`);
    writeFileSync(file, `${yaml}\n`);
    env.HUILIU_CONFIG = file;
  }
  return loadConfig({ env, argv: [], cwd: '/srv/huiliu' });
};
const errorOf = (fn: () => unknown): Error => {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected an error');
};
const textEmotion = () => ({
  label: 'neutral' as const,
  intensity: 0,
  scores: { anger: 0, disgust: 0, fear: 0, happiness: 0, sadness: 0, surprise: 0, neutral: 1 },
});

describe('ai.speech configuration (issue 18)', () => {
  it('defaults to the offline Debian engines: pocketsphinx ASR, espeak-ng TTS', () => {
    const c = load().ai.speech;
    expect(c).toEqual({
      asr: { engine: 'pocketsphinx', maxSeconds: 300, pocketsphinx: {} },
      tts: { engine: 'espeak-ng', espeakNg: {} },
      emotion: { prosodyWeight: 0.35 },
    });
    const engines = createSpeechEngines(c, { textEmotion });
    expect(engines.asr?.engine).toBe('pocketsphinx');
    expect(engines.tts?.engine).toBe('espeak-ng');
  });

  it('picks the OpenAI-compatible engines, whisper-cli, or none', () => {
    const model = join(dir, 'ggml-large-v3.bin');
    writeFileSync(model, 'x');
    const openai = load(`ai:
  speech:
    asr: {engine: openai, openai: {baseUrl: "http://127.0.0.1:8000/v1", model: whisper-large-v3, apiKeyEnv: SPEECH_KEY}}
    tts: {engine: openai, openai: {baseUrl: "https://tts.example.com/v1", model: tts-1, voices: {zh: zf_001}}}
    emotion: {prosodyWeight: 0.5}`).ai.speech;
    expect(openai.asr.openai).toEqual({ baseUrl: 'http://127.0.0.1:8000/v1', model: 'whisper-large-v3', apiKeyEnv: 'SPEECH_KEY' });
    const e = createSpeechEngines(openai, { textEmotion });
    expect([e.asr?.engine, e.tts?.engine]).toEqual(['openai', 'openai']);
    const whisper = load(
      `ai: {speech: {asr: {engine: whisper-cli, whisperCli: {binary: /opt/whisper.cpp/whisper-cli, model: ${model}}}, tts: {engine: none}}}`,
    ).ai.speech;
    const w = createSpeechEngines(whisper, { textEmotion });
    expect(w.asr?.engine).toBe('whisper-cli');
    expect(w.tts).toBeNull();
    expect(createSpeechEngines(load('ai: {speech: {asr: {engine: none}}}').ai.speech, { textEmotion }).asr).toBeNull();
  });

  it('stops the start naming the bad field', () => {
    for (const [yaml, field] of [
      ['ai: {speech: {asr: {engine: vosk}}}', /field ai\.speech\.asr\.engine/],
      ['ai: {speech: {asr: {engine: openai}}}', /field ai\.speech\.asr\.openai: required when engine is openai/],
      ['ai: {speech: {asr: {engine: whisper-cli}}}', /field ai\.speech\.asr\.whisperCli: required when engine is whisper-cli/],
      ['ai: {speech: {asr: {whisperCli: {model: models/ggml.bin}}}}', /field ai\.speech\.asr\.whisperCli\.model: must be an absolute path/],
      ['ai: {speech: {asr: {pocketsphinx: {binary: "pocketsphinx_continuous -dither"}}}}', /field ai\.speech\.asr\.pocketsphinx\.binary/],
      ['ai: {speech: {asr: {openai: {baseUrl: "ftp://x/v1", model: m}}}}', /field ai\.speech\.asr\.openai\.baseUrl/],
      [
        'ai: {speech: {asr: {openai: {baseUrl: "http://x/v1", model: m, apiKeyEnv: "sk-live-123"}}}}',
        /field ai\.speech\.asr\.openai\.apiKeyEnv/,
      ],
      ['ai: {speech: {tts: {engine: openai}}}', /field ai\.speech\.tts\.openai: required/],
      ['ai: {speech: {tts: {espeakNg: {voices: {zh: "-x"}}}}}', /field ai\.speech\.tts\.espeakNg\.voices\.zh/],
      ['ai: {speech: {emotion: {prosodyWeight: 2}}}', /field ai\.speech\.emotion\.prosodyWeight/],
      ['ai: {speech: {asr: {engine: pocketsphinx, language: zh}}}', /field ai\.speech\.asr/],
    ] as const) {
      const error = errorOf(() => load(yaml));
      expect(error).toBeInstanceOf(ConfigError);
      expect(error.message).toMatch(field);
    }
    const missing = load('ai: {speech: {asr: {engine: whisper-cli, whisperCli: {model: /nonexistent/ggml-large-v3.bin}}}}').ai.speech;
    expect(errorOf(() => createSpeechEngines(missing, { textEmotion })).message).toMatch(
      /field ai\.speech\.asr\.whisperCli\.model: the model file does not exist/,
    );
  });
});
