import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { HuiliuError } from '../../../../common/errors/codes';
import { dither, durationOf, encodeWav, resample } from './audio';
import { runTool, withTempDir } from './process';
import type { Asr, AsrOptions, PcmAudio, Transcript, TranscriptSegment } from './types';

/**
 * Offline English ASR with CMU pocketsphinx 0.8 (Debian `pocketsphinx` + `pocketsphinx-en-us`): the
 * `pocketsphinx_continuous` program reads a 16 kHz mono WAV from a private temp file and prints, for
 * each utterance it finds (`-time yes`), the hypothesis and one `word start end posterior` line per
 * word. It works out of the box but is weak (docs/ai-quality.md, ASR: about a third of the words
 * wrong on clean read speech); a deployment that needs ≥ 95 % uses a Whisper-class model (openai or
 * whisper-cli engine). There is no Mandarin model for it in Debian.
 */

export interface PocketsphinxOptions {
  /** Default `pocketsphinx_continuous` (on PATH). */
  binary?: string;
  /** Folder with `en-us/` (acoustic model), `en-us.lm.bin`, `cmudict-en-us.dict`; default the Debian package's. */
  modelDir?: string;
  /** Default 60,000 ms. */
  timeoutMs?: number;
  /** Longest audio in one call, seconds (default 300). */
  maxSeconds?: number;
}

export const POCKETSPHINX_DEFAULT_MODEL_DIR = '/usr/share/pocketsphinx/model/en-us';
/** The acoustic model's rate: audio is resampled to it. */
const RATE = 16_000;
const WORD_LINE = /^(\S+) (\d+(?:\.\d+)?) (\d+(?:\.\d+)?) (\d+(?:\.\d+)?)$/;
/** Not words: sentence marks, silence, noise fillers (`[NOISE]`, `++BREATH++`). */
const FILLER = /^(?:<\/?s>|<sil>|\[.*\]|\+\+.*\+\+)$/;

export class PocketsphinxAsr implements Asr {
  readonly engine = 'pocketsphinx';
  readonly langs = ['en'] as const;
  readonly maxSeconds: number;
  private readonly binary: string;
  private readonly modelDir: string;
  private readonly timeoutMs: number;

  constructor(options: PocketsphinxOptions = {}) {
    this.binary = options.binary ?? 'pocketsphinx_continuous';
    this.modelDir = options.modelDir ?? POCKETSPHINX_DEFAULT_MODEL_DIR;
    this.timeoutMs = options.timeoutMs ?? 60_000;
    this.maxSeconds = options.maxSeconds ?? 300;
  }

  async transcribe(audio: PcmAudio, options: AsrOptions): Promise<Transcript> {
    if (options.lang !== 'en') {
      throw new HuiliuError('SPEECH_INPUT_UNSUPPORTED', `pocketsphinx has no ${options.lang} model here (English only).`);
    }
    const duration = durationOf(audio);
    if (duration > this.maxSeconds) {
      throw new HuiliuError(
        'SPEECH_INPUT_TOO_LARGE',
        `The audio is ${duration.toFixed(1)} s; pocketsphinx takes at most ${this.maxSeconds} s in one call.`,
      );
    }
    if (!existsSync(join(this.modelDir, 'en-us.lm.bin'))) {
      throw new HuiliuError(
        'SPEECH_ENGINE_UNAVAILABLE',
        `pocketsphinx: no English model in ${this.modelDir} (Debian package pocketsphinx-en-us).`,
      );
    }
    const wav = encodeWav(dither(resample(audio, RATE)));
    const { stdout } = await withTempDir(async (dir) => {
      const file = join(dir, 'in.wav');
      await writeFile(file, wav, { mode: 0o600 });
      return runTool({
        engine: this.engine,
        binary: this.binary,
        args: [
          '-infile',
          file,
          '-hmm',
          join(this.modelDir, 'en-us'),
          '-lm',
          join(this.modelDir, 'en-us.lm.bin'),
          '-dict',
          join(this.modelDir, 'cmudict-en-us.dict'),
          '-samprate',
          String(RATE),
          '-time',
          'yes',
          '-logfn',
          '/dev/null',
        ],
        timeoutMs: this.timeoutMs,
        // ~40 bytes per word line; 300 s of speech is < 1,500 words.
        maxOutputBytes: 1 << 20,
        signal: options.signal,
      });
    });
    const segments = parsePocketsphinxOutput(stdout);
    return { text: segments.map((s) => s.text).join(' '), segments, lang: 'en', duration, engine: 'pocketsphinx@en-us' };
  }
}

/**
 * The utterances in `pocketsphinx_continuous -time yes` output: each `<s> … </s>` run of word lines
 * (`word start end posterior`, seconds) is one segment; fillers are dropped, alternative
 * pronunciations (`was(2)`) lose their mark; confidence is the mean posterior of its words.
 */
export function parsePocketsphinxOutput(stdout: string): TranscriptSegment[] {
  const segments: TranscriptSegment[] = [];
  let words: { w: string; start: number; end: number; p: number }[] = [];
  const flush = () => {
    if (words.length > 0) {
      segments.push({
        start: words[0]!.start,
        end: words[words.length - 1]!.end,
        text: words.map((x) => x.w).join(' '),
        confidence: Math.round((words.reduce((s, x) => s + Math.min(1, x.p), 0) / words.length) * 1e4) / 1e4,
      });
    }
    words = [];
  };
  for (const line of stdout.split('\n')) {
    const m = WORD_LINE.exec(line.trim());
    if (!m) continue;
    const token = m[1]!;
    if (token === '<s>') flush();
    if (token === '</s>') {
      flush();
      continue;
    }
    if (FILLER.test(token)) continue;
    words.push({ w: token.replace(/\(\d+\)$/, ''), start: Number(m[2]), end: Number(m[3]), p: Number(m[4]) });
  }
  flush();
  return segments;
}
