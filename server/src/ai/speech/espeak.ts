import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { HuiliuError } from '../../../../common/errors/codes';
import type { Lang } from '../../../../common/ai/types';
import { decodeWav, durationOf } from './audio';
import { runTool, withTempDir } from './process';
import type { Tts, TtsAudio, TtsRequest } from './types';

/**
 * Offline TTS with espeak-ng (Debian `espeak-ng`): English (`en-us`) and Mandarin (`cmn`) voices,
 * 22,050 Hz mono 16-bit WAV. The text goes in on stdin (never as an argument, never as SSML), the
 * WAV comes out through a private temp file. Robotic but intelligible: fine for queue prompts
 * ("you are number 3 in the queue"); a deployment that wants natural voices (MOS ≥ 4) uses the
 * openai engine against a neural TTS server.
 */

export interface EspeakOptions {
  /** Default `espeak-ng` (on PATH). */
  binary?: string;
  /** Voice per language; default `{en: 'en-us', zh: 'cmn'}`. */
  voices?: Partial<Record<Lang, string>>;
  /** Normal speaking rate in words per minute (espeak-ng `-s`, default 160). */
  wordsPerMinute?: number;
  /** Default 30,000 ms. */
  timeoutMs?: number;
  /** Longest text in one call, characters (default 2,000). */
  maxChars?: number;
}

/** espeak-ng's own knobs, for tests and prompts that need them (synthetic emotion signals). */
export interface EspeakRequest extends TtsRequest {
  /** Base pitch 0..99 (`-p`, default 50). */
  pitch?: number;
  /** Loudness 0..200 (`-a`, default 100). */
  amplitude?: number;
}

/** A voice name is letters, digits and `-+_` (an espeak-ng voice or variant such as `en-us+f3`). */
export const VOICE_NAME = /^[A-Za-z0-9][A-Za-z0-9+_-]{0,39}$/;
// eslint-disable-next-line no-control-regex -- control characters are exactly what is removed
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f]/g;

export class EspeakTts implements Tts {
  readonly engine = 'espeak-ng';
  readonly langs = ['en', 'zh'] as const;
  readonly maxChars: number;
  private readonly binary: string;
  private readonly voices: Record<Lang, string>;
  private readonly wpm: number;
  private readonly timeoutMs: number;

  constructor(options: EspeakOptions = {}) {
    this.binary = options.binary ?? 'espeak-ng';
    this.voices = { en: 'en-us', zh: 'cmn', ...options.voices };
    this.wpm = options.wordsPerMinute ?? 160;
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.maxChars = options.maxChars ?? 2000;
  }

  async synthesize(request: EspeakRequest): Promise<TtsAudio> {
    const text = request.text.replace(CONTROL, ' ').trim();
    if (!text) throw new HuiliuError('VALIDATION_FAILED', 'There is no text to speak.');
    const chars = [...text].length;
    if (chars > this.maxChars) {
      throw new HuiliuError(
        'SPEECH_INPUT_TOO_LARGE',
        `The text has ${chars} characters; espeak-ng takes at most ${this.maxChars} in one call.`,
      );
    }
    const voice = request.voice ?? this.voices[request.lang];
    if (!VOICE_NAME.test(voice)) throw new HuiliuError('VALIDATION_FAILED', 'The voice name is not valid.');
    const rate = Math.round(this.wpm * Math.min(2, Math.max(0.5, request.rate ?? 1)));
    const args = ['-v', voice, '-s', String(rate), '-b', '1'];
    if (request.pitch !== undefined) args.push('-p', String(Math.round(Math.min(99, Math.max(0, request.pitch)))));
    if (request.amplitude !== undefined) args.push('-a', String(Math.round(Math.min(200, Math.max(0, request.amplitude)))));
    const wav = await withTempDir(async (dir) => {
      const out = join(dir, 'out.wav');
      await runTool({
        engine: this.engine,
        binary: this.binary,
        args: [...args, '-w', out, '--stdin'],
        stdin: text,
        timeoutMs: this.timeoutMs,
        maxOutputBytes: 64 * 1024,
        signal: request.signal,
      });
      return readFile(out).catch(() => {
        throw new HuiliuError('SPEECH_FAILED', 'espeak-ng wrote no audio (is the voice installed?).');
      });
    });
    const pcm = decodeWav(wav);
    return { ...pcm, wav, duration: durationOf(pcm), engine: `espeak-ng@${voice}` };
  }
}
