import type { Emotion, Lang } from '../../../../common/ai/types';

/**
 * The speech ports (issue 18, docs/speech.md): speech to text (`Asr`), text to speech (`Tts`) and
 * emotion from speech (`SpeechEmotion`). Engines sit behind them (pocketsphinx, espeak-ng, an
 * OpenAI-compatible server, a whisper.cpp-style CLI with a local model file); configuration
 * (`ai.speech`) picks one of each. Nothing is downloaded at run time.
 */

/**
 * Mono linear PCM, signed 16-bit samples (−32768..32767) at `sampleRate` Hz. Every engine takes and
 * gives this; `audio.ts` turns WAV (PCM, float, G.711 μ-law/A-law, any channel count) into it.
 */
export interface PcmAudio {
  samples: Int16Array;
  /** Samples per second (Hz), e.g. 8000 (telephone), 16000 (ASR), 22050 (espeak-ng), 24000 (OpenAI pcm). */
  sampleRate: number;
}

/** One recognised stretch of speech: an utterance (between pauses) or, when the engine gives them, one word. */
export interface TranscriptSegment {
  /** Start in seconds from the beginning of the audio given (for a stream: of the whole call). */
  start: number;
  /** End in seconds, ≥ start. */
  end: number;
  /** The words heard, as the engine writes them (lower case for pocketsphinx), without fillers such as `<sil>`. */
  text: string;
  /**
   * How sure the engine is, 0..1: pocketsphinx's mean word posterior, exp(avg_logprob) for Whisper-style
   * engines; null when the engine gives no confidence.
   */
  confidence: number | null;
}

/** What an `Asr` heard in one piece of audio. */
export interface Transcript {
  /** The whole text (segments joined with a space; Chinese segments without one). */
  text: string;
  /** In time order; empty when nothing was heard. */
  segments: TranscriptSegment[];
  /** The language asked for (or the engine's answer when it detects it). */
  lang: Lang;
  /** Seconds of audio read. */
  duration: number;
  /** Which engine and model answered, e.g. `pocketsphinx@en-us`, `openai@whisper-1`, `whisper-cli@ggml-base.bin`. */
  engine: string;
}

export interface AsrOptions {
  /** The language spoken (docs/speech.md: which engine has which). */
  lang: Lang;
  /** Stops the work: the engine's process is killed or its request aborted, and the call rejects CANCELLED. */
  signal?: AbortSignal;
}

/**
 * Speech to text. Batch: `transcribe` one piece of audio (an utterance, a voicemail). Live calls use
 * `ChunkedAsrStream` (stream.ts), which cuts the call's audio at pauses and transcribes each piece
 * with `transcribe`, so every engine streams the same way.
 *
 * Errors (`HuiliuError`, common/errors/codes.ts): SPEECH_ENGINE_UNAVAILABLE (program, model or endpoint
 * missing), SPEECH_INPUT_UNSUPPORTED (a language the engine has no model for), SPEECH_INPUT_TOO_LARGE
 * (longer than `maxSeconds`), SPEECH_TIMEOUT, SPEECH_FAILED, CANCELLED (the signal aborted).
 */
export interface Asr {
  /** `pocketsphinx`, `openai`, `whisper-cli`. */
  readonly engine: string;
  /** The languages this engine (as configured) has a model for. */
  readonly langs: readonly Lang[];
  /** The longest audio one `transcribe` takes, in seconds. */
  readonly maxSeconds: number;
  transcribe(audio: PcmAudio, options: AsrOptions): Promise<Transcript>;
}

export interface TtsRequest {
  /** Plain text, 1..`maxChars` characters (never markup: espeak-ng runs without `-m`). */
  text: string;
  lang: Lang;
  /** An engine voice name (espeak-ng `en-us`, `cmn`; OpenAI `alloy`…); absent: the configured voice for `lang`. */
  voice?: string;
  /** Speaking rate as a multiple of the engine's normal rate, 0.5..2 (default 1). */
  rate?: number;
  signal?: AbortSignal;
}

/** Synthesised speech: mono 16-bit PCM and the WAV file of it (what a media server plays). */
export interface TtsAudio extends PcmAudio {
  /** RIFF/WAVE, PCM 16-bit mono at `sampleRate`. */
  wav: Buffer;
  /** Seconds. */
  duration: number;
  engine: string;
}

/** Text to speech. Errors as `Asr` (SPEECH_INPUT_TOO_LARGE: text longer than `maxChars`). */
export interface Tts {
  readonly engine: string;
  readonly langs: readonly Lang[];
  readonly maxChars: number;
  synthesize(request: TtsRequest): Promise<TtsAudio>;
}

/** Prosody of a stretch of speech, measured from its PCM (prosody.ts). */
export interface ProsodyFeatures {
  /** Seconds of audio. */
  duration: number;
  /** Seconds judged voiced (pitch found and loud enough). */
  voicedSeconds: number;
  /** Mean RMS level of the speech frames in dB relative to full scale (dBFS, ≤ 0; −96 for silence). */
  rmsDb: number;
  /** Median fundamental frequency of the voiced frames, Hz (0 when none was voiced). */
  pitchHz: number;
  /** Standard deviation of the voiced frames' pitch in semitones around their median (intonation range). */
  pitchSdSemitones: number;
  /** Syllable-like energy peaks per second of speech (frames above the silence floor). */
  syllablesPerSecond: number;
  /** Words per second of speech when a transcript is given; null otherwise. */
  wordsPerSecond: number | null;
}

/** The six basic emotions + neutral with a probability each (sums to 1), and how the answer was reached. */
export interface SpeechEmotionResult {
  label: Emotion;
  /** How strongly `label` is expressed, 0..1 (0 for neutral), as text emotion's `intensity`. */
  intensity: number;
  scores: Record<Emotion, number>;
  /** Arousal from prosody, 0 (flat, quiet, slow) .. 1 (loud, fast, wide pitch); 0.5 when unmeasurable. */
  arousal: number;
  features: ProsodyFeatures;
  /** The text emotion of the transcript that was combined in (null without a transcript). */
  text: { label: Emotion; intensity: number } | null;
  /** The weight prosody had in `scores` (0 when there was too little voiced speech to judge). */
  prosodyWeight: number;
}

export interface SpeechEmotionInput {
  audio: PcmAudio;
  /** What was said (an `Asr` transcript's text), to read its text emotion; absent: prosody only. */
  transcript?: string;
  /** Baseline prosody of this caller (e.g. their first calm seconds) to judge against; absent: population norms. */
  baseline?: Pick<ProsodyFeatures, 'rmsDb' | 'pitchSdSemitones' | 'syllablesPerSecond'>;
}

/** Emotion from speech: prosody features combined with the transcript's text emotion (emotion.ts). Synchronous, never throws for valid PCM. */
export interface SpeechEmotion {
  analyze(input: SpeechEmotionInput): SpeechEmotionResult;
}
