import { describe, expect, it } from 'vitest';
import { aLawDecode, decodeG711, decodeWav, dither, encodeWav, muLawDecode, muLawEncode, resample, telephoneQuality } from './audio';
import { charErrors, editDistance, pooledRate, wordErrors } from './wer';

const tone = (hz: number, rate: number, seconds: number, amplitude = 10000) =>
  Int16Array.from({ length: Math.round(rate * seconds) }, (_, i) => Math.round(amplitude * Math.sin((2 * Math.PI * hz * i) / rate)));

/** A WAV header for `format` with `data` as its payload (the cases encodeWav does not write). */
function wavOf(format: number, channels: number, rate: number, bits: number, data: Buffer): Buffer {
  const h = Buffer.alloc(44);
  h.write('RIFF', 0, 'latin1');
  h.writeUInt32LE(36 + data.length, 4);
  h.write('WAVEfmt ', 8, 'latin1');
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(format, 20);
  h.writeUInt16LE(channels, 22);
  h.writeUInt32LE(rate, 24);
  h.writeUInt32LE((rate * channels * bits) / 8, 28);
  h.writeUInt16LE((channels * bits) / 8, 32);
  h.writeUInt16LE(bits, 34);
  h.write('data', 36, 'latin1');
  h.writeUInt32LE(data.length, 40);
  return Buffer.concat([h, data]);
}

describe('speech audio plumbing', () => {
  it('writes and reads back a 16-bit mono WAV sample for sample', () => {
    const samples = tone(440, 16000, 0.1);
    const back = decodeWav(encodeWav({ samples, sampleRate: 16000 }));
    expect(back.sampleRate).toBe(16000);
    expect([...back.samples]).toEqual([...samples]);
  });

  it('mixes stereo float WAV to mono and reads G.711 μ-law and A-law WAV', () => {
    const f = Buffer.alloc(8 * 4);
    for (let i = 0; i < 4; i++) {
      f.writeFloatLE(0.5, i * 8);
      f.writeFloatLE(-0.25, i * 8 + 4);
    }
    const mixed = decodeWav(wavOf(3, 2, 8000, 32, f));
    expect([...mixed.samples]).toEqual([4096, 4096, 4096, 4096]);
    const mu = decodeWav(wavOf(7, 1, 8000, 8, Buffer.from([muLawEncode(1000), muLawEncode(-1000)])));
    expect(Math.abs(mu.samples[0]! - 1000)).toBeLessThan(40);
    expect(Math.abs(mu.samples[1]! + 1000)).toBeLessThan(40);
    const a = decodeWav(wavOf(6, 1, 8000, 8, Buffer.from([0xd5, 0x55])));
    expect(a.samples[0]).toBe(8);
    expect(a.samples[1]).toBe(-8);
  });

  it('keeps G.711 μ-law within its quantisation step over the whole range', () => {
    for (let x = -32000; x <= 32000; x += 997) {
      const y = muLawDecode(muLawEncode(x));
      expect(Math.abs(y - x)).toBeLessThanOrEqual(Math.max(8, Math.abs(x) / 16));
    }
    expect(aLawDecode(0x55 ^ 0x80)).toBeGreaterThan(0);
  });

  it('dithers by at most one step, the same way every time', () => {
    const silent = { samples: new Int16Array(1000), sampleRate: 16000 };
    const a = dither(silent);
    expect([...a.samples]).toEqual([...dither(silent).samples]);
    expect(a.samples.some((x) => x !== 0)).toBe(true);
    expect(a.samples.every((x) => Math.abs(x) <= 1)).toBe(true);
  });

  it('refuses what is not readable WAV with SPEECH_INPUT_UNSUPPORTED', () => {
    for (const bad of [
      Buffer.from('not a wav file at all'),
      wavOf(85, 1, 8000, 16, Buffer.alloc(10)),
      wavOf(1, 1, 100, 16, Buffer.alloc(10)),
    ]) {
      expect(() => decodeWav(bad)).toThrow(expect.objectContaining({ code: 'SPEECH_INPUT_UNSUPPORTED' }));
    }
  });

  it('resamples keeping pitch and length, and makes a telephone-quality copy at 8 kHz', () => {
    const out = resample({ samples: tone(300, 22050, 1), sampleRate: 22050 }, 16000);
    expect(out.samples.length).toBe(16000);
    // Zero crossings of a 300 Hz tone: 600 a second, whatever the rate.
    let crossings = 0;
    for (let i = 1; i < out.samples.length; i++) if (out.samples[i - 1]! < 0 !== out.samples[i]! < 0) crossings++;
    expect(Math.abs(crossings - 600)).toBeLessThanOrEqual(2);
    const phone = telephoneQuality({ samples: tone(300, 16000, 0.5), sampleRate: 16000 });
    expect(phone.sampleRate).toBe(8000);
    expect(phone.samples.length).toBe(4000);
  });
});

describe('word and character error rates', () => {
  it('counts Levenshtein edits over words after LibriSpeech-style normalisation', () => {
    expect(editDistance(['a', 'b', 'c'], ['a', 'x', 'c', 'd'])).toBe(2);
    expect(wordErrors('And so, my fellow Americans!', 'and so my fellow americans')).toEqual({ errors: 0, reference: 5 });
    expect(wordErrors('WHY SHOULD ONE HALT ON THE WAY', 'why should one hold on the way')).toEqual({ errors: 1, reference: 7 });
    expect(wordErrors("it's", 'its').errors).toBe(1);
  });

  it('counts characters for Mandarin without spaces, punctuation or full-width forms', () => {
    expect(charErrors('而 对 楼市 成交 抑制 作用', '而对楼市成交抑制作用。')).toEqual({ errors: 0, reference: 10 });
    expect(charErrors('而对楼市成交抑制作用', '而对楼市成交一直作用').errors).toBe(2);
    expect(
      pooledRate([
        { errors: 1, reference: 10 },
        { errors: 3, reference: 10 },
      ]),
    ).toBe(0.2);
  });
});

describe('G.711 RTP payloads to PCM (decodeG711)', () => {
  it('decodes μ-law (PCMU) and A-law (PCMA) bytes to the ITU-T G.711 values', () => {
    // μ-law: 0xFF and 0x7F are ±0, 0x00/0x80 the extremes ∓32124, 0xFE the smallest step (8), 0x70 −120.
    expect([...decodeG711(Uint8Array.from([0xff, 0x7f, 0x00, 0x80, 0xfe, 0x70]), 'PCMU')]).toEqual([0, 0, -32124, 32124, 8, -120]);
    // A-law (even bits inverted, 0x55): 0xD5/0x55 ±8, 0xAA/0x2A ±32256, 0xD4 24.
    expect([...decodeG711(Uint8Array.from([0xd5, 0x55, 0xaa, 0x2a, 0xd4]), 'PCMA')]).toEqual([8, -8, 32256, -32256, 24]);
  });

  it('agrees with the per-sample decoders on every byte and round-trips μ-law encoding within its step', () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    // (`| 0`: the per-sample decoders give −0 for the negative zero codes; a PCM sample has no sign on 0.)
    expect([...decodeG711(all, 'PCMU')]).toEqual([...all].map((b) => muLawDecode(b) | 0));
    expect([...decodeG711(all, 'PCMA')]).toEqual([...all].map((b) => aLawDecode(b) | 0));
    for (const x of [-32000, -1000, -100, 0, 100, 1000, 32000]) {
      const back = decodeG711(Uint8Array.from([muLawEncode(x)]), 'PCMU')[0]!;
      expect(Math.abs(back - x)).toBeLessThanOrEqual(Math.max(8, Math.abs(x) / 16));
    }
  });
});
