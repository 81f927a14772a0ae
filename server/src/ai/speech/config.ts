import { isAbsolute } from 'node:path';
import { z } from 'zod';

/**
 * `ai.speech` of HUILIU_CONFIG (issue 18, docs/speech.md): which engine does ASR and which TTS, with
 * their options. Validated with the rest of the configuration at start; a bad value stops the start
 * naming the field (e.g. `ai.speech.asr.openai: required when engine is openai`).
 */

/** A program: an absolute path, or a bare name looked up on PATH (no relative paths, no arguments). */
const Program = z
  .string()
  .min(1)
  .max(500)
  .refine((p) => isAbsolute(p) || /^[A-Za-z0-9._+-]+$/.test(p), 'must be an absolute path or a program name on PATH');
const AbsolutePath = z.string().min(1).max(1000).refine(isAbsolute, 'must be an absolute path');
const TimeoutMs = z.number().int().min(100).max(600_000);
const Langs = z
  .array(z.enum(['en', 'zh']))
  .min(1)
  .max(2);
const VoiceName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9+_-]{0,39}$/, 'letters, digits, "+", "_" or "-"');
const OpenAiEndpoint = {
  /** e.g. `http://127.0.0.1:8000/v1`; `/audio/transcriptions` or `/audio/speech` is appended. */
  baseUrl: z.url({ protocol: /^https?$/ }),
  model: z.string().min(1).max(200),
  /** Name of the environment variable holding the API key (the key itself never sits in the file). */
  apiKeyEnv: z
    .string()
    .regex(/^[A-Z_][A-Z0-9_]*$/)
    .optional(),
  timeoutMs: TimeoutMs.optional(),
};

export const ASR_ENGINES = ['pocketsphinx', 'openai', 'whisper-cli', 'none'] as const;
export const TTS_ENGINES = ['espeak-ng', 'openai', 'none'] as const;

const requireSection =
  (engine: string, section: string) => (value: { engine?: string } & Record<string, unknown>, ctx: z.RefinementCtx) => {
    if (value.engine === engine && value[section] === undefined) {
      ctx.addIssue({ code: 'custom', path: [section], message: `required when engine is ${engine}` });
    }
  };

export const SpeechConfigSchema = z
  .strictObject({
    asr: z
      .strictObject({
        /** Default `pocketsphinx` (English only, weak; docs/ai-quality.md). */
        engine: z.enum(ASR_ENGINES),
        /** Longest audio one call transcribes, seconds (default 300); live calls are cut at pauses well below it. */
        maxSeconds: z.number().int().min(1).max(3600),
        pocketsphinx: z
          .strictObject({
            binary: Program,
            /** Default `/usr/share/pocketsphinx/model/en-us` (Debian `pocketsphinx-en-us`). */
            modelDir: AbsolutePath,
            timeoutMs: TimeoutMs,
          })
          .partial(),
        openai: z.strictObject({
          ...OpenAiEndpoint,
          responseFormat: z.enum(['verbose_json', 'json']).optional(),
          /** Largest upload, bytes (default 25 MB). */
          maxBytes: z
            .number()
            .int()
            .min(1024)
            .max(1024 * 1024 * 1024)
            .optional(),
          /** Languages the server's model has (default en and zh). */
          langs: Langs.optional(),
        }),
        whisperCli: z.strictObject({
          binary: Program.optional(),
          /** Absolute path of the model file the deployment supplies (e.g. ggml-large-v3.bin). */
          model: AbsolutePath,
          threads: z.number().int().min(1).max(64).optional(),
          timeoutMs: TimeoutMs.optional(),
          langs: Langs.optional(),
        }),
      })
      .partial()
      .superRefine(requireSection('openai', 'openai'))
      .superRefine(requireSection('whisper-cli', 'whisperCli')),
    tts: z
      .strictObject({
        /** Default `espeak-ng`. */
        engine: z.enum(TTS_ENGINES),
        espeakNg: z
          .strictObject({
            binary: Program,
            voices: z.strictObject({ en: VoiceName, zh: VoiceName }).partial(),
            wordsPerMinute: z.number().int().min(80).max(450),
            timeoutMs: TimeoutMs,
            maxChars: z.number().int().min(1).max(20_000),
          })
          .partial(),
        openai: z.strictObject({
          ...OpenAiEndpoint,
          voices: z
            .strictObject({ en: z.string().min(1).max(100), zh: z.string().min(1).max(100) })
            .partial()
            .optional(),
          responseFormat: z.enum(['wav', 'pcm']).optional(),
          pcmSampleRate: z.number().int().min(8000).max(48_000).optional(),
        }),
      })
      .partial()
      .superRefine(requireSection('openai', 'openai')),
    emotion: z
      .strictObject({
        /** Weight of prosody against the transcript's text emotion, 0..1 (default 0.35). */
        prosodyWeight: z.number().min(0).max(1),
      })
      .partial(),
  })
  .partial();

export type SpeechFileConfig = z.infer<typeof SpeechConfigSchema>;
type Asr = NonNullable<SpeechFileConfig['asr']>;
type Tts = NonNullable<SpeechFileConfig['tts']>;

/** `ai.speech` with defaults filled in. */
export interface SpeechConfig {
  readonly asr: {
    readonly engine: (typeof ASR_ENGINES)[number];
    readonly maxSeconds: number;
    readonly pocketsphinx: NonNullable<Asr['pocketsphinx']>;
    readonly openai?: NonNullable<Asr['openai']>;
    readonly whisperCli?: NonNullable<Asr['whisperCli']>;
  };
  readonly tts: {
    readonly engine: (typeof TTS_ENGINES)[number];
    readonly espeakNg: NonNullable<Tts['espeakNg']>;
    readonly openai?: NonNullable<Tts['openai']>;
  };
  readonly emotion: { readonly prosodyWeight: number };
}

/** Defaults: pocketsphinx ASR, espeak-ng TTS (both from Debian, offline), prosody weight 0.35. */
export function speechConfig(file: SpeechFileConfig | undefined): SpeechConfig {
  return {
    asr: {
      engine: file?.asr?.engine ?? 'pocketsphinx',
      maxSeconds: file?.asr?.maxSeconds ?? 300,
      pocketsphinx: { ...file?.asr?.pocketsphinx },
      ...(file?.asr?.openai ? { openai: file.asr.openai } : {}),
      ...(file?.asr?.whisperCli ? { whisperCli: file.asr.whisperCli } : {}),
    },
    tts: {
      engine: file?.tts?.engine ?? 'espeak-ng',
      espeakNg: { ...file?.tts?.espeakNg },
      ...(file?.tts?.openai ? { openai: file.tts.openai } : {}),
    },
    emotion: { prosodyWeight: file?.emotion?.prosodyWeight ?? 0.35 },
  };
}
