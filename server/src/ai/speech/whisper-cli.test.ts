import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeWav } from './audio';
import { WhisperCliAsr } from './whisper-cli';

/**
 * whisper.cpp is not installed here and no model can be downloaded: a tiny stand-in program checks
 * only the argument and file contract (`-m model -f in.wav -l lang -t n -np -oj -of prefix` →
 * `prefix.json`). It records its arguments and a copy of the WAV it was given, and writes the JSON
 * whisper.cpp writes. Real recognition quality needs a real model (docs/speech.md).
 */
const dir = mkdtempSync(join(tmpdir(), 'huiliu-whisper-test-'));
const model = join(dir, 'ggml-tiny.bin');
writeFileSync(model, 'not a real model');
const standIn = join(dir, 'whisper-cli');
writeFileSync(
  standIn,
  `#!/bin/sh
printf '%s\\n' "$@" > "${dir}/args.txt"
while [ $# -gt 0 ]; do
  case "$1" in
    -f) in="$2"; shift 2;;
    -of) out="$2"; shift 2;;
    -l) lang="$2"; shift 2;;
    *) shift;;
  esac
done
cp "$in" "${dir}/seen.wav"
if [ "$lang" = zh ]; then
  printf '{"transcription":[{"offsets":{"from":0,"to":1200},"text":"我的订单"},{"offsets":{"from":1200,"to":2000},"text":"到哪了"}]}' > "$out.json"
else
  printf '{"transcription":[{"timestamps":{"from":"00:00:00,000","to":"00:00:01,500"},"offsets":{"from":0,"to":1500},"text":" Where is my order?"},{"offsets":{"from":1500,"to":1600},"text":" "}]}' > "$out.json"
fi
`,
);
chmodSync(standIn, 0o755);
const broken = join(dir, 'whisper-broken');
writeFileSync(broken, '#!/bin/sh\nexit 0\n');
chmodSync(broken, 0o755);

const audio = { samples: new Int16Array(22050 * 2).fill(100), sampleRate: 22050 };

describe('local model file through a whisper.cpp-style CLI', () => {
  it('passes the model, a 16 kHz WAV, the language and JSON output flags, and reads the segments back', async () => {
    const asr = new WhisperCliAsr({ binary: standIn, model, threads: 3 });
    const t = await asr.transcribe(audio, { lang: 'en' });
    expect(t).toEqual({
      text: 'Where is my order?',
      segments: [{ start: 0, end: 1.5, text: 'Where is my order?', confidence: null }],
      lang: 'en',
      duration: 2,
      engine: 'whisper-cli@ggml-tiny.bin',
    });
    const args = readFileSync(join(dir, 'args.txt'), 'utf8').trim().split('\n');
    expect(args.slice(0, 2)).toEqual(['-m', model]);
    expect(args[2]).toBe('-f');
    expect(args.slice(4)).toEqual(['-l', 'en', '-t', '3', '-np', '-oj', '-of', args[11]!]);
    const wav = decodeWav(readFileSync(join(dir, 'seen.wav')));
    expect(wav.sampleRate).toBe(16000);
    expect(wav.samples.length).toBe(32000);
    const zh = await asr.transcribe(audio, { lang: 'zh' });
    expect(zh.text).toBe('我的订单到哪了');
    expect(zh.segments.map((s) => [s.start, s.end])).toEqual([
      [0, 1.2],
      [1.2, 2],
    ]);
  });

  it('answers stable codes for a missing program, a missing model, no JSON written, and a language not configured', async () => {
    await expect(new WhisperCliAsr({ binary: join(dir, 'nope'), model }).transcribe(audio, { lang: 'en' })).rejects.toMatchObject({
      code: 'SPEECH_ENGINE_UNAVAILABLE',
    });
    await expect(
      new WhisperCliAsr({ binary: standIn, model: join(dir, 'missing.bin') }).transcribe(audio, { lang: 'en' }),
    ).rejects.toMatchObject({
      code: 'SPEECH_ENGINE_UNAVAILABLE',
    });
    await expect(new WhisperCliAsr({ binary: broken, model }).transcribe(audio, { lang: 'en' })).rejects.toMatchObject({
      code: 'SPEECH_FAILED',
    });
    await expect(new WhisperCliAsr({ binary: standIn, model, langs: ['zh'] }).transcribe(audio, { lang: 'en' })).rejects.toMatchObject({
      code: 'SPEECH_INPUT_UNSUPPORTED',
    });
    await expect(new WhisperCliAsr({ binary: standIn, model, maxSeconds: 1 }).transcribe(audio, { lang: 'en' })).rejects.toMatchObject({
      code: 'SPEECH_INPUT_TOO_LARGE',
    });
  });
});
