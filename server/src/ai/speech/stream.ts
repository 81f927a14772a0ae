import { HuiliuError } from '../../../../common/errors/codes';
import type { Lang } from '../../../../common/ai/types';
import type { Asr, PcmAudio, Transcript, TranscriptSegment } from './types';

/**
 * Live transcription of a call with any `Asr` (issue 18): the call's audio is written in as it comes
 * (any chunk size), cut into utterances at pauses by an energy detector, and each utterance is
 * transcribed while the call goes on; its segments are reported with times from the start of the
 * call. One utterance is transcribed at a time per call, in order.
 */

export interface ChunkedAsrOptions {
  lang: Lang;
  /** The rate of the PCM written (Hz), e.g. 8000 from a G.711 call leg. */
  sampleRate: number;
  /** A pause this long ends an utterance (ms, default 600). */
  pauseMs?: number;
  /** An utterance longer than this is cut anyway (seconds, default 15; at most the engine's `maxSeconds`). */
  maxUtteranceSeconds?: number;
  /** Frames this far above the quietest frames heard (dB) count as speech (default 12). */
  speechAboveFloorDb?: number;
  /** Frames below this level (dBFS) are never speech (default −50). */
  minSpeechDb?: number;
  /** Audio waiting for the engine beyond this many seconds is dropped (counted in `droppedSeconds`; default 120). */
  maxBacklogSeconds?: number;
  /** Called with each recognised segment, in order. */
  onSegment?: (segment: TranscriptSegment) => void;
  /**
   * Called once per transcribed utterance, in order, with its PCM (at `sampleRate`), its start in
   * seconds from the start of the call and the engine's transcript of it (segment times relative to
   * the utterance): what a caller's message and its speech emotion are made of.
   */
  onUtterance?: (utterance: { audio: PcmAudio; start: number; transcript: Transcript }) => void | Promise<void>;
  /** Called when one utterance could not be transcribed (the stream goes on). */
  onError?: (error: HuiliuError) => void;
}

const FRAME_MS = 20;

export class ChunkedAsrStream {
  private readonly frame: number;
  private readonly pauseFrames: number;
  private readonly maxFrames: number;
  private readonly aboveFloor: number;
  private readonly minDb: number;
  private readonly maxBacklog: number;
  private pending = new Int16Array(0);
  /** Frames of the current utterance (speech and the pauses inside it). */
  private utterance: Int16Array[] = [];
  private utteranceStart = 0;
  private silentRun = 0;
  private heardSpeech = false;
  private floorDb = 0;
  private framesSeen = 0;
  private queue: Promise<void> = Promise.resolve();
  private backlogSeconds = 0;
  private ended = false;
  private readonly segments: TranscriptSegment[] = [];
  /** Seconds of audio dropped because the engine fell behind. */
  droppedSeconds = 0;
  /** Utterances the engine failed on. */
  failures = 0;

  constructor(
    private readonly asr: Asr,
    private readonly options: ChunkedAsrOptions,
  ) {
    this.frame = Math.round((options.sampleRate * FRAME_MS) / 1000);
    this.pauseFrames = Math.ceil((options.pauseMs ?? 600) / FRAME_MS);
    this.maxFrames = Math.floor((Math.min(options.maxUtteranceSeconds ?? 15, asr.maxSeconds) * 1000) / FRAME_MS);
    this.aboveFloor = options.speechAboveFloorDb ?? 12;
    this.minDb = options.minSpeechDb ?? -50;
    this.maxBacklog = options.maxBacklogSeconds ?? 120;
  }

  /** Adds audio (mono 16-bit at the stream's rate). @throws HuiliuError VALIDATION_FAILED after `end()` */
  write(samples: Int16Array): void {
    if (this.ended) throw new HuiliuError('VALIDATION_FAILED', 'The transcription stream has ended.');
    const joined = new Int16Array(this.pending.length + samples.length);
    joined.set(this.pending);
    joined.set(samples, this.pending.length);
    let at = 0;
    for (; at + this.frame <= joined.length; at += this.frame) this.addFrame(joined.slice(at, at + this.frame));
    this.pending = joined.slice(at);
  }

  /** Ends the call's audio: the last utterance is transcribed, and the whole transcript returned. */
  async end(): Promise<Transcript> {
    if (!this.ended) {
      this.ended = true;
      if (this.pending.length > 0) this.addFrame(this.pending);
      this.pending = new Int16Array(0);
      this.cut();
    }
    await this.queue;
    return {
      text: this.segments.map((s) => s.text).join(this.options.lang === 'zh' ? '' : ' '),
      segments: [...this.segments],
      lang: this.options.lang,
      duration: (this.framesSeen * FRAME_MS) / 1000,
      engine: this.asr.engine,
    };
  }

  private addFrame(frame: Int16Array): void {
    const db = levelDb(frame);
    // The floor follows the quietest frames quickly and rises slowly (≈ 2 s), so line noise is learnt.
    this.floorDb = this.framesSeen === 0 ? db : db < this.floorDb ? db : this.floorDb + 0.01 * (db - this.floorDb);
    const speech = db >= this.minDb && db >= this.floorDb + this.aboveFloor;
    if (this.utterance.length === 0) this.utteranceStart = (this.framesSeen * FRAME_MS) / 1000;
    this.framesSeen++;
    if (!this.heardSpeech && !speech) {
      // Keep a little lead-in (up to the pause length) before the first speech frame.
      this.utterance.push(frame);
      if (this.utterance.length > this.pauseFrames) {
        this.utterance.shift();
        this.utteranceStart += FRAME_MS / 1000;
      }
      return;
    }
    this.utterance.push(frame);
    if (speech) {
      this.heardSpeech = true;
      this.silentRun = 0;
    } else this.silentRun++;
    if (this.silentRun >= this.pauseFrames || this.utterance.length >= this.maxFrames) this.cut();
  }

  private cut(): void {
    const frames = this.utterance;
    const start = this.utteranceStart;
    const hadSpeech = this.heardSpeech;
    this.utterance = [];
    this.heardSpeech = false;
    this.silentRun = 0;
    if (!hadSpeech || frames.length === 0) return;
    const total = frames.reduce((n, f) => n + f.length, 0);
    const samples = new Int16Array(total);
    let at = 0;
    for (const f of frames) {
      samples.set(f, at);
      at += f.length;
    }
    const seconds = total / this.options.sampleRate;
    if (this.backlogSeconds + seconds > this.maxBacklog) {
      this.droppedSeconds += seconds;
      this.options.onError?.(new HuiliuError('OVERLOADED', 'The speech engine fell behind; a stretch of the call was not transcribed.'));
      return;
    }
    this.backlogSeconds += seconds;
    const audio: PcmAudio = { samples, sampleRate: this.options.sampleRate };
    this.queue = this.queue.then(async () => {
      try {
        const t = await this.asr.transcribe(audio, { lang: this.options.lang });
        for (const s of t.segments) {
          const shifted = { ...s, start: round3(s.start + start), end: round3(s.end + start) };
          this.segments.push(shifted);
          this.options.onSegment?.(shifted);
        }
        await this.options.onUtterance?.({ audio, start, transcript: t });
      } catch (error) {
        this.failures++;
        this.options.onError?.(error instanceof HuiliuError ? error : new HuiliuError('SPEECH_FAILED', (error as Error).message));
      } finally {
        this.backlogSeconds -= seconds;
      }
    });
  }
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;

/** RMS level of samples in dBFS (−96 for digital silence). */
export function levelDb(samples: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < samples.length; i++) sum += samples[i]! * samples[i]!;
  const rms = Math.sqrt(sum / Math.max(1, samples.length)) / 32768;
  return rms <= 1.6e-5 ? -96 : 20 * Math.log10(rms);
}
