import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { decodeWav, encodeWav } from './audio';
import { OpenAiAsr, OpenAiTts, transcriptFromOpenAi } from './openai';

/**
 * A small OpenAI-compatible audio server on loopback (a protocol peer): it parses the multipart
 * upload and the JSON body exactly as a real server must, records them, and answers as each test sets.
 */
interface Seen {
  path: string;
  auth: string | undefined;
  contentType: string;
  form?: FormData;
  json?: Record<string, unknown>;
}
let server: Server;
let base = '';
const seen: Seen[] = [];
let answer: (req: IncomingMessage, res: ServerResponse, seen: Seen) => void = (_q, res) => res.end();

const tone = (rate: number, seconds: number) =>
  Int16Array.from({ length: Math.round(rate * seconds) }, (_, i) => Math.round(8000 * Math.sin((2 * Math.PI * 220 * i) / rate)));

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const contentType = req.headers['content-type'] ?? '';
      const entry: Seen = { path: req.url ?? '', auth: req.headers.authorization, contentType };
      void (async () => {
        if (contentType.startsWith('multipart/form-data'))
          entry.form = await new Response(raw, { headers: { 'content-type': contentType } }).formData();
        else if (contentType.startsWith('application/json')) entry.json = JSON.parse(raw.toString('utf8')) as Record<string, unknown>;
        seen.push(entry);
        answer(req, res, entry);
      })();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});
beforeEach(() => {
  seen.length = 0;
});

const json = (res: ServerResponse, body: unknown, status = 200) => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
};

describe('OpenAI-compatible transcription adapter (POST /v1/audio/transcriptions)', () => {
  it('uploads a 16 kHz WAV as multipart file + model + language + response_format and reads verbose_json segments', async () => {
    answer = (_q, res) =>
      json(res, {
        task: 'transcribe',
        language: 'english',
        duration: 2,
        text: ' Where is my order? ',
        segments: [
          { id: 0, start: 0.2, end: 0.9, text: ' Where is', avg_logprob: -0.1 },
          { id: 1, start: 0.9, end: 1.6, text: ' my order?', avg_logprob: -0.5 },
        ],
      });
    const asr = new OpenAiAsr({ baseUrl: `${base}/`, model: 'whisper-1', apiKeyEnv: 'SPEECH_KEY' }, { env: { SPEECH_KEY: 'sk-test' } });
    const t = await asr.transcribe({ samples: tone(44100, 2), sampleRate: 44100 }, { lang: 'en' });
    expect(t).toEqual({
      text: 'Where is my order?',
      segments: [
        { start: 0.2, end: 0.9, text: 'Where is', confidence: 0.9048 },
        { start: 0.9, end: 1.6, text: 'my order?', confidence: 0.6065 },
      ],
      lang: 'en',
      duration: 2,
      engine: 'openai@whisper-1',
    });
    const req = seen[0]!;
    expect(req.path).toBe('/v1/audio/transcriptions');
    expect(req.auth).toBe('Bearer sk-test');
    expect(req.contentType).toMatch(/^multipart\/form-data; boundary=/);
    expect(req.form!.get('model')).toBe('whisper-1');
    expect(req.form!.get('language')).toBe('en');
    expect(req.form!.get('response_format')).toBe('verbose_json');
    const file = req.form!.get('file') as File;
    expect(file.name).toBe('audio.wav');
    expect(file.type).toBe('audio/wav');
    const uploaded = decodeWav(Buffer.from(await file.arrayBuffer()));
    expect(uploaded.sampleRate).toBe(16000);
    expect(uploaded.samples.length).toBe(32000);
  });

  it('takes a plain json answer ({text}) as one segment, Chinese included, and sends no key when none is configured', async () => {
    answer = (_q, res) => json(res, { text: '我的订单到哪了' });
    const asr = new OpenAiAsr({ baseUrl: base, model: 'paraformer-zh', responseFormat: 'json' });
    const t = await asr.transcribe({ samples: tone(16000, 1), sampleRate: 16000 }, { lang: 'zh' });
    expect(t.segments).toEqual([{ start: 0, end: 1, text: '我的订单到哪了', confidence: null }]);
    expect(seen[0]!.auth).toBeUndefined();
    expect(seen[0]!.form!.get('response_format')).toBe('json');
    expect(seen[0]!.form!.get('language')).toBe('zh');
  });

  it('maps failures to stable codes: HTTP error, no answer in time, unreachable, no key, too long, not JSON', async () => {
    const audio = { samples: tone(16000, 1), sampleRate: 16000 };
    answer = (_q, res) => json(res, { error: { message: 'model not found' } }, 404);
    await expect(new OpenAiAsr({ baseUrl: base, model: 'x' }).transcribe(audio, { lang: 'en' })).rejects.toMatchObject({
      code: 'SPEECH_FAILED',
      details: { status: 404 },
    });
    answer = (_q, res) => setTimeout(() => json(res, { text: 'late' }), 1500);
    await expect(new OpenAiAsr({ baseUrl: base, model: 'x', timeoutMs: 200 }).transcribe(audio, { lang: 'en' })).rejects.toMatchObject({
      code: 'SPEECH_TIMEOUT',
    });
    await expect(new OpenAiAsr({ baseUrl: 'http://127.0.0.1:1/v1', model: 'x' }).transcribe(audio, { lang: 'en' })).rejects.toMatchObject({
      code: 'SPEECH_ENGINE_UNAVAILABLE',
    });
    await expect(
      new OpenAiAsr({ baseUrl: base, model: 'x', apiKeyEnv: 'NOT_SET_HERE' }, { env: {} }).transcribe(audio, { lang: 'en' }),
    ).rejects.toMatchObject({
      code: 'SPEECH_ENGINE_UNAVAILABLE',
    });
    await expect(new OpenAiAsr({ baseUrl: base, model: 'x', maxSeconds: 0.5 }).transcribe(audio, { lang: 'en' })).rejects.toMatchObject({
      code: 'SPEECH_INPUT_TOO_LARGE',
    });
    await expect(new OpenAiAsr({ baseUrl: base, model: 'x', maxBytes: 10_000 }).transcribe(audio, { lang: 'en' })).rejects.toMatchObject({
      code: 'SPEECH_INPUT_TOO_LARGE',
    });
    await expect(new OpenAiAsr({ baseUrl: base, model: 'x', langs: ['en'] }).transcribe(audio, { lang: 'zh' })).rejects.toMatchObject({
      code: 'SPEECH_INPUT_UNSUPPORTED',
    });
    answer = (_q, res) => res.end('<html>gateway</html>');
    await expect(new OpenAiAsr({ baseUrl: base, model: 'x' }).transcribe(audio, { lang: 'en' })).rejects.toMatchObject({
      code: 'SPEECH_FAILED',
    });
    expect(() => transcriptFromOpenAi({ segments: [] }, 'en', 1, 'openai@x')).toThrow(expect.objectContaining({ code: 'SPEECH_FAILED' }));
  });
});

describe('OpenAI-compatible speech adapter (POST /v1/audio/speech)', () => {
  it('posts {model, input, voice, response_format, speed} and reads the WAV answer', async () => {
    const wav = encodeWav({ samples: tone(24000, 0.5), sampleRate: 24000 });
    answer = (_q, res) => {
      res.writeHead(200, { 'content-type': 'audio/wav' });
      res.end(wav);
    };
    const tts = new OpenAiTts(
      { baseUrl: base, model: 'tts-1', voices: { zh: 'zh-female' }, apiKeyEnv: 'SPEECH_KEY' },
      { env: { SPEECH_KEY: 'k' } },
    );
    const a = await tts.synthesize({ text: '您前面还有三位客户', lang: 'zh', rate: 1.25 });
    expect(seen[0]!.path).toBe('/v1/audio/speech');
    expect(seen[0]!.auth).toBe('Bearer k');
    expect(seen[0]!.json).toEqual({ model: 'tts-1', input: '您前面还有三位客户', voice: 'zh-female', response_format: 'wav', speed: 1.25 });
    expect(a.sampleRate).toBe(24000);
    expect(a.duration).toBeCloseTo(0.5, 3);
    expect(a.engine).toBe('openai@tts-1');
  });

  it('reads raw pcm at the configured rate and wraps it in a WAV', async () => {
    const pcm = Buffer.alloc(2 * 2400);
    answer = (_q, res) => {
      res.writeHead(200, { 'content-type': 'audio/pcm' });
      res.end(pcm);
    };
    const a = await new OpenAiTts({ baseUrl: base, model: 'tts-1', responseFormat: 'pcm' }).synthesize({ text: 'hello', lang: 'en' });
    expect(seen[0]!.json).toMatchObject({ voice: 'alloy', response_format: 'pcm', speed: 1 });
    expect(a.sampleRate).toBe(24000);
    expect(a.duration).toBeCloseTo(0.1, 3);
    expect(decodeWav(a.wav).samples.length).toBe(2400);
  });

  it('refuses text over the limit before sending, an answer over the size limit, and audio that is not WAV', async () => {
    await expect(
      new OpenAiTts({ baseUrl: base, model: 'tts-1', maxChars: 5 }).synthesize({ text: 'too long', lang: 'en' }),
    ).rejects.toMatchObject({
      code: 'SPEECH_INPUT_TOO_LARGE',
    });
    expect(seen).toHaveLength(0);
    answer = (_q, res) => {
      res.writeHead(200, { 'content-type': 'audio/wav' });
      res.end(Buffer.alloc(200_000));
    };
    await expect(
      new OpenAiTts({ baseUrl: base, model: 'tts-1', maxResponseBytes: 100_000 }).synthesize({ text: 'hi', lang: 'en' }),
    ).rejects.toMatchObject({
      code: 'SPEECH_FAILED',
    });
    await expect(new OpenAiTts({ baseUrl: base, model: 'tts-1' }).synthesize({ text: 'hi', lang: 'en' })).rejects.toMatchObject({
      code: 'SPEECH_FAILED',
    });
  });
});
