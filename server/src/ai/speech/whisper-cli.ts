import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { HuiliuError } from '../../../../common/errors/codes';
import type { Lang } from '../../../../common/ai/types';
import { durationOf, encodeWav, resample } from './audio';
import { runTool, withTempDir } from './process';
import type { Asr, AsrOptions, PcmAudio, Transcript, TranscriptSegment } from './types';

/**
 * ASR with a local model file through a whisper.cpp-style command-line program (issue 18). The
 * project ships neither the program nor a model: a deployment installs whisper.cpp's `whisper-cli`
 * (or anything with the same contract) and a ggml model such as `ggml-large-v3.bin`, and names both
 * in `ai.speech.asr.whisperCli`. The contract, as whisper.cpp's CLI has it:
 *
 *   whisper-cli -m <model> -f <in.wav> -l <en|zh> -t <threads> -np -oj -of <prefix>
 *
 * reads a 16 kHz mono 16-bit WAV and writes `<prefix>.json` with
 * `{"transcription": [{"offsets": {"from": ms, "to": ms}, "text": "…"}, …]}`.
 */

export interface WhisperCliOptions {
  /** The program (absolute path, or a name on PATH); default `whisper-cli`. */
  binary?: string;
  /** Absolute path of the model file (required). */
  model: string;
  /** CPU threads for the program (default 2). */
  threads?: number;
  /** Default 120,000 ms. */
  timeoutMs?: number;
  /** Longest audio in one call, seconds (default 300). */
  maxSeconds?: number;
  /** Languages the model has (default `['en', 'zh']`: Whisper's multilingual models). */
  langs?: Lang[];
}

const RATE = 16_000;

export class WhisperCliAsr implements Asr {
  readonly engine = 'whisper-cli';
  readonly langs: readonly Lang[];
  readonly maxSeconds: number;
  private readonly binary: string;

  constructor(private readonly options: WhisperCliOptions) {
    this.binary = options.binary ?? 'whisper-cli';
    this.langs = options.langs ?? ['en', 'zh'];
    this.maxSeconds = options.maxSeconds ?? 300;
  }

  async transcribe(audio: PcmAudio, options: AsrOptions): Promise<Transcript> {
    if (!this.langs.includes(options.lang)) {
      throw new HuiliuError('SPEECH_INPUT_UNSUPPORTED', `The configured whisper model has no ${options.lang}.`);
    }
    if (!existsSync(this.options.model)) {
      throw new HuiliuError('SPEECH_ENGINE_UNAVAILABLE', 'whisper-cli: the configured model file does not exist.');
    }
    const duration = durationOf(audio);
    if (duration > this.maxSeconds) {
      throw new HuiliuError(
        'SPEECH_INPUT_TOO_LARGE',
        `The audio is ${duration.toFixed(1)} s; whisper-cli takes at most ${this.maxSeconds} s in one call.`,
      );
    }
    const wav = encodeWav(resample(audio, RATE));
    const answer = await withTempDir(async (dir) => {
      const input = join(dir, 'in.wav');
      const prefix = join(dir, 'out');
      await writeFile(input, wav, { mode: 0o600 });
      await runTool({
        engine: this.engine,
        binary: this.binary,
        args: [
          '-m',
          this.options.model,
          '-f',
          input,
          '-l',
          options.lang,
          '-t',
          String(this.options.threads ?? 2),
          '-np',
          '-oj',
          '-of',
          prefix,
        ],
        timeoutMs: this.options.timeoutMs ?? 120_000,
        maxOutputBytes: 1 << 20,
        signal: options.signal,
      });
      const text = await readFile(`${prefix}.json`, 'utf8').catch(() => {
        throw new HuiliuError('SPEECH_FAILED', 'whisper-cli wrote no JSON transcript (-oj -of).');
      });
      try {
        return JSON.parse(text) as unknown;
      } catch {
        throw new HuiliuError('SPEECH_FAILED', 'whisper-cli wrote a transcript that is not JSON.');
      }
    });
    const segments = parseWhisperJson(answer);
    return {
      text: joinSegments(segments, options.lang),
      segments,
      lang: options.lang,
      duration,
      engine: `whisper-cli@${basename(this.options.model)}`,
    };
  }
}

/**
 * Segments of whisper.cpp's `-oj` file: `transcription[].offsets.{from,to}` (ms) and `.text`.
 * @throws HuiliuError SPEECH_FAILED when it has no `transcription` array
 */
export function parseWhisperJson(answer: unknown): TranscriptSegment[] {
  const rows = (answer as { transcription?: unknown } | null)?.transcription;
  if (!Array.isArray(rows)) throw new HuiliuError('SPEECH_FAILED', 'whisper-cli: the JSON has no "transcription" array.');
  const segments: TranscriptSegment[] = [];
  for (const row of rows as { offsets?: { from?: unknown; to?: unknown }; text?: unknown }[]) {
    const text = typeof row?.text === 'string' ? row.text.trim() : '';
    if (!text) continue;
    const from = typeof row.offsets?.from === 'number' ? row.offsets.from / 1000 : 0;
    const to = typeof row.offsets?.to === 'number' ? row.offsets.to / 1000 : from;
    segments.push({ start: from, end: Math.max(from, to), text, confidence: null });
  }
  return segments;
}

/** Segment texts joined: with spaces, except between two Chinese segments. */
export function joinSegments(segments: readonly TranscriptSegment[], lang: Lang): string {
  return segments.map((s) => s.text).join(lang === 'zh' ? '' : ' ');
}
