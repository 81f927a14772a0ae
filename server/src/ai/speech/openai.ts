import { HuiliuError } from '../../../../common/errors/codes';
import type { Lang } from '../../../../common/ai/types';
import { decodeWav, durationOf, encodeWav, pcmFromBytes, resample } from './audio';
import type { Asr, AsrOptions, PcmAudio, Transcript, TranscriptSegment, Tts, TtsAudio, TtsRequest } from './types';

/**
 * Adapters for an OpenAI-compatible audio server (OpenAI itself, or a local one: faster-whisper /
 * speaches, vLLM, LocalAI, a FunASR or CosyVoice wrapper):
 * - ASR: `POST {baseUrl}/audio/transcriptions`, `multipart/form-data` with `file` (a WAV),
 *   `model`, `language` (ISO-639-1: `en`, `zh`) and `response_format` (`verbose_json` for segments
 *   with `start`/`end` seconds and `avg_logprob`, or `json` for `{text}` only).
 * - TTS: `POST {baseUrl}/audio/speech`, JSON `{model, input, voice, response_format: "wav"|"pcm", speed}`;
 *   `pcm` is raw 16-bit little-endian mono at 24 kHz (OpenAI's documented rate, configurable).
 * The API key is read from the environment variable named in the config and sent as
 * `Authorization: Bearer`; the audio and text are never logged.
 */

export interface OpenAiSpeechConfig {
  /** e.g. `http://127.0.0.1:8000/v1` — `/audio/transcriptions` or `/audio/speech` is appended. */
  baseUrl: string;
  model: string;
  /** The environment variable holding the API key; absent: no key is sent (a local server). */
  apiKeyEnv?: string;
  /** Default 60,000 ms (ASR) / 30,000 ms (TTS). */
  timeoutMs?: number;
}

export interface OpenAiAsrConfig extends OpenAiSpeechConfig {
  /** Default `verbose_json`. */
  responseFormat?: 'verbose_json' | 'json';
  /** Largest upload in bytes (default 25 MB, OpenAI's limit). */
  maxBytes?: number;
  /** Longest audio in one call, seconds (default 600). */
  maxSeconds?: number;
  /** Languages the server's model has (default `['en', 'zh']`). */
  langs?: Lang[];
}

export interface OpenAiTtsConfig extends OpenAiSpeechConfig {
  /** Voice per language (default `alloy` for both). */
  voices?: Partial<Record<Lang, string>>;
  /** Default `wav`. */
  responseFormat?: 'wav' | 'pcm';
  /** The rate of `pcm` answers, Hz (default 24,000). */
  pcmSampleRate?: number;
  /** Longest text, characters (default 4,096, OpenAI's limit). */
  maxChars?: number;
  /** Largest answer accepted, bytes (default 50 MB). */
  maxResponseBytes?: number;
}

export interface OpenAiDeps {
  env?: Record<string, string | undefined>;
  fetch?: typeof fetch;
}

/** Sent to the server at this rate (what Whisper-class models read); higher rates only cost upload. */
const UPLOAD_RATE = 16_000;
const TRANSCRIPT_RESPONSE_MAX = 2 * 1024 * 1024;

const trimBase = (url: string) => url.replace(/\/+$/, '');

function headersFor(config: OpenAiSpeechConfig, deps: OpenAiDeps, engine: string): Record<string, string> {
  if (!config.apiKeyEnv) return {};
  const key = (deps.env ?? process.env)[config.apiKeyEnv];
  if (!key) throw new HuiliuError('SPEECH_ENGINE_UNAVAILABLE', `${engine}: the environment variable ${config.apiKeyEnv} holds no API key.`);
  return { authorization: `Bearer ${key}` };
}

/**
 * One request with a time limit, the caller's abort and a cap on the answer's size.
 * @throws HuiliuError SPEECH_ENGINE_UNAVAILABLE (cannot connect), SPEECH_TIMEOUT, CANCELLED, SPEECH_FAILED
 *   (an HTTP error status — `details.status` — or an answer larger than `maxBytes`)
 */
async function post(
  url: string,
  init: { headers: Record<string, string>; body: FormData | string },
  limits: { timeoutMs: number; maxBytes: number; signal?: AbortSignal; engine: string; fetch?: typeof fetch },
): Promise<{ body: Buffer; contentType: string }> {
  const timeout = AbortSignal.timeout(limits.timeoutMs);
  const signal = limits.signal ? AbortSignal.any([timeout, limits.signal]) : timeout;
  let response: Response;
  try {
    response = await (limits.fetch ?? fetch)(url, { method: 'POST', headers: init.headers, body: init.body, signal });
    if (!response.ok) {
      await response.body?.cancel();
      throw new HuiliuError('SPEECH_FAILED', `${limits.engine}: the server answered HTTP ${response.status}.`, { status: response.status });
    }
    const declared = Number(response.headers.get('content-length') ?? '0');
    if (declared > limits.maxBytes) {
      await response.body?.cancel();
      throw new HuiliuError('SPEECH_FAILED', `${limits.engine}: the answer (${declared} bytes) is larger than ${limits.maxBytes}.`);
    }
    const chunks: Uint8Array[] = [];
    let size = 0;
    const reader = response.body?.getReader();
    while (reader) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > limits.maxBytes) {
        await reader.cancel();
        throw new HuiliuError('SPEECH_FAILED', `${limits.engine}: the answer is larger than ${limits.maxBytes} bytes.`);
      }
      chunks.push(value);
    }
    return { body: Buffer.concat(chunks), contentType: response.headers.get('content-type') ?? '' };
  } catch (error) {
    if (error instanceof HuiliuError) throw error;
    if (limits.signal?.aborted) throw new HuiliuError('CANCELLED');
    if (timeout.aborted) throw new HuiliuError('SPEECH_TIMEOUT', `${limits.engine} gave no answer within ${limits.timeoutMs} ms.`);
    throw new HuiliuError('SPEECH_ENGINE_UNAVAILABLE', `${limits.engine}: cannot reach ${new URL(url).origin} (${(error as Error).name}).`);
  }
}

interface VerboseTranscription {
  text?: unknown;
  language?: unknown;
  segments?: { start?: unknown; end?: unknown; text?: unknown; avg_logprob?: unknown }[];
}

const num = (x: unknown): number | null => (typeof x === 'number' && Number.isFinite(x) ? x : null);

/**
 * A Whisper-style answer (`{text, segments?:[{start, end, text, avg_logprob?}]}`) as a transcript;
 * without segments the whole text is one segment over the whole audio.
 * @throws HuiliuError SPEECH_FAILED when it has no `text`
 */
export function transcriptFromOpenAi(answer: unknown, lang: Lang, duration: number, engine: string): Transcript {
  const a = (answer ?? {}) as VerboseTranscription;
  if (typeof a.text !== 'string') throw new HuiliuError('SPEECH_FAILED', `${engine}: the answer has no "text".`);
  const text = a.text.trim();
  let segments: TranscriptSegment[] = [];
  if (Array.isArray(a.segments)) {
    segments = a.segments
      .filter((s) => typeof s?.text === 'string' && (s.text as string).trim() !== '')
      .map((s) => {
        const start = num(s.start) ?? 0;
        const logprob = num(s.avg_logprob);
        return {
          start,
          end: Math.max(start, num(s.end) ?? start),
          text: (s.text as string).trim(),
          confidence: logprob === null ? null : Math.round(Math.exp(Math.min(0, logprob)) * 1e4) / 1e4,
        };
      });
  } else if (text) {
    segments = [{ start: 0, end: duration, text, confidence: null }];
  }
  return { text, segments, lang, duration, engine };
}

export class OpenAiAsr implements Asr {
  readonly engine = 'openai';
  readonly langs: readonly Lang[];
  readonly maxSeconds: number;
  private readonly maxBytes: number;

  constructor(
    private readonly config: OpenAiAsrConfig,
    private readonly deps: OpenAiDeps = {},
  ) {
    this.langs = config.langs ?? ['en', 'zh'];
    this.maxSeconds = config.maxSeconds ?? 600;
    this.maxBytes = config.maxBytes ?? 25 * 1024 * 1024;
  }

  async transcribe(audio: PcmAudio, options: AsrOptions): Promise<Transcript> {
    if (!this.langs.includes(options.lang)) {
      throw new HuiliuError(
        'SPEECH_INPUT_UNSUPPORTED',
        `The configured transcription model has no ${options.lang} (configured: ${this.langs.join(', ')}).`,
      );
    }
    const duration = durationOf(audio);
    if (duration > this.maxSeconds) {
      throw new HuiliuError(
        'SPEECH_INPUT_TOO_LARGE',
        `The audio is ${duration.toFixed(1)} s; the transcription server takes at most ${this.maxSeconds} s in one call.`,
      );
    }
    const wav = encodeWav(audio.sampleRate > UPLOAD_RATE ? resample(audio, UPLOAD_RATE) : audio);
    if (wav.length > this.maxBytes) {
      throw new HuiliuError(
        'SPEECH_INPUT_TOO_LARGE',
        `The audio is ${wav.length} bytes as WAV; the transcription server takes at most ${this.maxBytes}.`,
      );
    }
    const form = new FormData();
    form.append('file', new Blob([wav], { type: 'audio/wav' }), 'audio.wav');
    form.append('model', this.config.model);
    form.append('language', options.lang);
    form.append('response_format', this.config.responseFormat ?? 'verbose_json');
    const { body } = await post(
      `${trimBase(this.config.baseUrl)}/audio/transcriptions`,
      { headers: headersFor(this.config, this.deps, this.engine), body: form },
      {
        timeoutMs: this.config.timeoutMs ?? 60_000,
        maxBytes: TRANSCRIPT_RESPONSE_MAX,
        signal: options.signal,
        engine: this.engine,
        fetch: this.deps.fetch,
      },
    );
    let answer: unknown;
    try {
      answer = JSON.parse(body.toString('utf8'));
    } catch {
      throw new HuiliuError('SPEECH_FAILED', 'openai: the transcription answer is not JSON.');
    }
    return transcriptFromOpenAi(answer, options.lang, duration, `openai@${this.config.model}`);
  }
}

export class OpenAiTts implements Tts {
  readonly engine = 'openai';
  readonly langs = ['en', 'zh'] as const;
  readonly maxChars: number;

  constructor(
    private readonly config: OpenAiTtsConfig,
    private readonly deps: OpenAiDeps = {},
  ) {
    this.maxChars = config.maxChars ?? 4096;
  }

  async synthesize(request: TtsRequest): Promise<TtsAudio> {
    const text = request.text.trim();
    if (!text) throw new HuiliuError('VALIDATION_FAILED', 'There is no text to speak.');
    if ([...text].length > this.maxChars) {
      throw new HuiliuError('SPEECH_INPUT_TOO_LARGE', `The text is longer than ${this.maxChars} characters.`);
    }
    const format = this.config.responseFormat ?? 'wav';
    const payload = {
      model: this.config.model,
      input: text,
      voice: request.voice ?? this.config.voices?.[request.lang] ?? 'alloy',
      response_format: format,
      speed: Math.min(4, Math.max(0.25, request.rate ?? 1)),
    };
    const { body } = await post(
      `${trimBase(this.config.baseUrl)}/audio/speech`,
      {
        headers: { 'content-type': 'application/json', ...headersFor(this.config, this.deps, this.engine) },
        body: JSON.stringify(payload),
      },
      {
        timeoutMs: this.config.timeoutMs ?? 30_000,
        maxBytes: this.config.maxResponseBytes ?? 50 * 1024 * 1024,
        signal: request.signal,
        engine: this.engine,
        fetch: this.deps.fetch,
      },
    );
    let pcm: PcmAudio;
    try {
      pcm = format === 'wav' ? decodeWav(body) : pcmFromBytes(body, this.config.pcmSampleRate ?? 24_000);
    } catch (error) {
      throw new HuiliuError('SPEECH_FAILED', `openai: the speech answer is not ${format} audio (${(error as Error).message})`);
    }
    const wav = format === 'wav' ? body : encodeWav(pcm);
    return { ...pcm, wav, duration: durationOf(pcm), engine: `openai@${this.config.model}` };
  }
}
