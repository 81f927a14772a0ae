import { existsSync } from 'node:fs';
import type { EmotionResult } from '../../../../common/ai/types';
import { ConfigError } from '../../config/config';
import type { SpeechConfig } from './config';
import { ProsodyTextEmotion } from './emotion';
import { EspeakTts } from './espeak';
import { OpenAiAsr, OpenAiTts, type OpenAiDeps } from './openai';
import { PocketsphinxAsr } from './pocketsphinx';
import type { Asr, SpeechEmotion, Tts } from './types';
import { WhisperCliAsr } from './whisper-cli';

/**
 * The speech engines configuration picks (issue 18, `ai.speech`, docs/speech.md). The telephony side
 * builds this once in the composition root and hands `asr` to a `ChunkedAsrStream` per call, `tts` to
 * its prompts and `emotion` to each utterance, then `toRouterEmotion` to the difficulty it routes with.
 */

export type {
  Asr,
  AsrOptions,
  PcmAudio,
  SpeechEmotion,
  SpeechEmotionResult,
  Transcript,
  TranscriptSegment,
  Tts,
  TtsAudio,
  TtsRequest,
} from './types';
export { ChunkedAsrStream } from './stream';
export { toRouterEmotion } from './emotion';
export { decodeWav, encodeWav, telephoneQuality } from './audio';

export interface SpeechEngines {
  /** null when `ai.speech.asr.engine` is `none`. */
  asr: Asr | null;
  /** null when `ai.speech.tts.engine` is `none`. */
  tts: Tts | null;
  emotion: SpeechEmotion;
}

export interface SpeechDeps extends OpenAiDeps {
  /** The language core's text emotion (`(t) => core.emotion(t)`). */
  textEmotion: (text: string) => EmotionResult;
}

/**
 * Builds the configured engines. Programs are not probed here (a missing one answers
 * SPEECH_ENGINE_UNAVAILABLE when used, so the server starts without speech packages installed), but
 * a configured model file that does not exist is a configuration mistake.
 * @throws ConfigError naming `ai.speech.asr.whisperCli.model` when that file does not exist
 */
export function createSpeechEngines(config: SpeechConfig, deps: SpeechDeps): SpeechEngines {
  const { asr: a, tts: t } = config;
  let asr: Asr | null = null;
  if (a.engine === 'pocketsphinx') asr = new PocketsphinxAsr({ ...a.pocketsphinx, maxSeconds: a.maxSeconds });
  else if (a.engine === 'openai' && a.openai) asr = new OpenAiAsr({ ...a.openai, maxSeconds: a.maxSeconds }, deps);
  else if (a.engine === 'whisper-cli' && a.whisperCli) {
    if (!existsSync(a.whisperCli.model)) {
      throw new ConfigError('HUILIU_CONFIG field ai.speech.asr.whisperCli.model: the model file does not exist');
    }
    asr = new WhisperCliAsr({ ...a.whisperCli, maxSeconds: a.maxSeconds });
  }
  let tts: Tts | null = null;
  if (t.engine === 'espeak-ng') tts = new EspeakTts(t.espeakNg);
  else if (t.engine === 'openai' && t.openai) tts = new OpenAiTts(t.openai, deps);
  return { asr, tts, emotion: new ProsodyTextEmotion({ textEmotion: deps.textEmotion, prosodyWeight: config.emotion.prosodyWeight }) };
}
