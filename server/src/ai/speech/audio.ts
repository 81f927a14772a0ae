import { HuiliuError } from '../../../../common/errors/codes';
import type { PcmAudio } from './types';

/**
 * Audio plumbing for the speech engines (issue 18): RIFF/WAVE in and out, mixing to mono,
 * resampling, and G.711 μ-law/A-law (ITU-T G.711) for the telephone path. Pure TypeScript, no codec
 * programs: what a call's media server hands over is WAV or raw PCM/G.711.
 */

const WAVE_FORMAT_PCM = 1;
const WAVE_FORMAT_IEEE_FLOAT = 3;
const WAVE_FORMAT_ALAW = 6;
const WAVE_FORMAT_MULAW = 7;
const WAVE_FORMAT_EXTENSIBLE = 0xfffe;

const unsupported = (why: string) => new HuiliuError('SPEECH_INPUT_UNSUPPORTED', `The audio is not readable WAV: ${why}.`);

/**
 * Decodes a RIFF/WAVE file to mono 16-bit PCM at the file's own rate: PCM 8/16/24/32-bit, IEEE float
 * 32/64-bit, G.711 A-law and μ-law, WAVE_FORMAT_EXTENSIBLE of those; channels are averaged. A `data`
 * chunk whose declared size runs past the end (a streamed header, 0xFFFFFFFF) is read to the end.
 * @throws HuiliuError SPEECH_INPUT_UNSUPPORTED for anything else (not RIFF/WAVE, another codec, no data)
 */
export function decodeWav(file: Buffer): PcmAudio {
  if (file.length < 12 || file.toString('latin1', 0, 4) !== 'RIFF' || file.toString('latin1', 8, 12) !== 'WAVE') {
    throw unsupported('no RIFF/WAVE header');
  }
  let format = -1;
  let channels = 0;
  let sampleRate = 0;
  let bits = 0;
  let offset = 12;
  while (offset + 8 <= file.length) {
    const id = file.toString('latin1', offset, offset + 4);
    const size = file.readUInt32LE(offset + 4);
    const body = offset + 8;
    if (id === 'fmt ') {
      if (size < 16 || body + 16 > file.length) throw unsupported('a short fmt chunk');
      format = file.readUInt16LE(body);
      channels = file.readUInt16LE(body + 2);
      sampleRate = file.readUInt32LE(body + 4);
      bits = file.readUInt16LE(body + 14);
      // The sub-format GUID's first two bytes are the real format tag.
      if (format === WAVE_FORMAT_EXTENSIBLE && size >= 40 && body + 26 <= file.length) format = file.readUInt16LE(body + 24);
    } else if (id === 'data') {
      if (format < 0) throw unsupported('data before fmt');
      const end = Math.min(file.length, body + size);
      return { samples: toMono16(file.subarray(body, end), format, channels, bits), sampleRate: checkRate(sampleRate) };
    }
    offset = body + size + (size % 2);
  }
  throw unsupported('no data chunk');
}

function checkRate(rate: number): number {
  if (rate < 4000 || rate > 192_000) throw unsupported(`a sample rate of ${rate} Hz`);
  return rate;
}

function toMono16(data: Buffer, format: number, channels: number, bits: number): Int16Array {
  if (channels < 1 || channels > 16) throw unsupported(`${channels} channels`);
  const bytes = bits / 8;
  const frame = bytes * channels;
  const read = sampleReader(format, bits, data);
  const n = Math.floor(data.length / frame);
  const out = new Int16Array(n);
  for (let i = 0; i < n; i++) {
    let sum = 0;
    for (let c = 0; c < channels; c++) sum += read(i * frame + c * bytes);
    out[i] = clamp16(Math.round(sum / channels));
  }
  return out;
}

/** A function reading one sample at a byte offset as a 16-bit-scaled number. */
function sampleReader(format: number, bits: number, d: Buffer): (at: number) => number {
  if (format === WAVE_FORMAT_PCM) {
    if (bits === 8) return (at) => (d[at]! - 128) << 8;
    if (bits === 16) return (at) => d.readInt16LE(at);
    if (bits === 24) return (at) => d.readIntLE(at, 3) / 256;
    if (bits === 32) return (at) => d.readInt32LE(at) / 65536;
  } else if (format === WAVE_FORMAT_IEEE_FLOAT) {
    if (bits === 32) return (at) => d.readFloatLE(at) * 32767;
    if (bits === 64) return (at) => d.readDoubleLE(at) * 32767;
  } else if (format === WAVE_FORMAT_MULAW && bits === 8) {
    return (at) => muLawDecode(d[at]!);
  } else if (format === WAVE_FORMAT_ALAW && bits === 8) {
    return (at) => aLawDecode(d[at]!);
  }
  throw unsupported(`format tag ${format} at ${bits} bits`);
}

const clamp16 = (x: number) => (x > 32767 ? 32767 : x < -32768 ? -32768 : x);

/** A RIFF/WAVE file (PCM, 16-bit, mono) of `audio`: 44-byte header + samples, little-endian. */
export function encodeWav(audio: PcmAudio): Buffer {
  const dataBytes = audio.samples.length * 2;
  const out = Buffer.alloc(44 + dataBytes);
  out.write('RIFF', 0, 'latin1');
  out.writeUInt32LE(36 + dataBytes, 4);
  out.write('WAVE', 8, 'latin1');
  out.write('fmt ', 12, 'latin1');
  out.writeUInt32LE(16, 16);
  out.writeUInt16LE(WAVE_FORMAT_PCM, 20);
  out.writeUInt16LE(1, 22);
  out.writeUInt32LE(audio.sampleRate, 24);
  out.writeUInt32LE(audio.sampleRate * 2, 28);
  out.writeUInt16LE(2, 32);
  out.writeUInt16LE(16, 34);
  out.write('data', 36, 'latin1');
  out.writeUInt32LE(dataBytes, 40);
  for (let i = 0; i < audio.samples.length; i++) out.writeInt16LE(audio.samples[i]!, 44 + i * 2);
  return out;
}

/** Mono 16-bit little-endian raw PCM bytes (OpenAI `pcm`, a media server's L16) as `PcmAudio`. */
export function pcmFromBytes(bytes: Buffer, sampleRate: number): PcmAudio {
  const n = Math.floor(bytes.length / 2);
  const samples = new Int16Array(n);
  for (let i = 0; i < n; i++) samples[i] = bytes.readInt16LE(i * 2);
  return { samples, sampleRate: checkRate(sampleRate) };
}

/** Seconds of audio. */
export const durationOf = (audio: PcmAudio): number => audio.samples.length / audio.sampleRate;

/** Zero crossings each side of the windowed-sinc kernel (a steeper filter costs more taps). */
const SINC_HALF_WIDTH = 16;
const KERNEL_STEPS = 256;

/**
 * `audio` at `rate` Hz by band-limited interpolation: a Hann-windowed sinc kernel with its cutoff at
 * 0.95 × the lower of the two Nyquist frequencies (so downsampling does not alias and upsampling
 * does not image), 2 × 16 zero crossings wide, tabulated (256 steps per sample). ~1 ms per second
 * of 22,050 Hz audio to 16 kHz.
 */
export function resample(audio: PcmAudio, rate: number): PcmAudio {
  if (audio.sampleRate === rate) return audio;
  const src = audio.samples;
  const ratio = audio.sampleRate / rate;
  // Cutoff as a fraction of the input's Nyquist frequency.
  const cutoff = 0.95 * Math.min(1, 1 / ratio);
  const half = Math.ceil(SINC_HALF_WIDTH / cutoff);
  // The kernel tabulated at 1/KERNEL_STEPS of an input sample (no trigonometry per tap).
  const table = new Float64Array(half * KERNEL_STEPS + 2);
  for (let k = 0; k < table.length; k++) {
    const x = k / KERNEL_STEPS;
    const arg = Math.PI * cutoff * x;
    table[k] = (x === 0 ? 1 : Math.sin(arg) / arg) * (x > half + 1 ? 0 : 0.5 + 0.5 * Math.cos((Math.PI * x) / (half + 1)));
  }
  const n = Math.floor(src.length / ratio);
  const out = new Int16Array(n);
  for (let i = 0; i < n; i++) {
    const centre = i * ratio;
    const lo = Math.max(0, Math.ceil(centre - half));
    const hi = Math.min(src.length - 1, Math.floor(centre + half));
    let acc = 0;
    let norm = 0;
    for (let j = lo; j <= hi; j++) {
      const w = table[Math.round(Math.abs(j - centre) * KERNEL_STEPS)]!;
      acc += src[j]! * w;
      norm += w;
    }
    out[i] = clamp16(Math.round(norm === 0 ? 0 : acc / norm));
  }
  return { samples: out, sampleRate: rate };
}

/**
 * `audio` with triangular (TPDF) dither of ±1 LSB from a seeded generator (mulberry32): the same
 * input always gives the same output. Recognisers that take the log of frame energy (pocketsphinx)
 * misread digital silence — exact zeros between synthesised or gated words — without it.
 */
export function dither(audio: PcmAudio, seed = 1): PcmAudio {
  let state = seed >>> 0;
  const random = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const samples = new Int16Array(audio.samples.length);
  for (let i = 0; i < samples.length; i++) samples[i] = clamp16(audio.samples[i]! + Math.round(random() - random()));
  return { samples, sampleRate: audio.sampleRate };
}

// G.711 (ITU-T Rec. G.711, 1988): segment/mantissa companding, bias 0x84 for μ-law.
const MULAW_BIAS = 0x84;
const MULAW_CLIP = 32635;

/** One 16-bit sample to a G.711 μ-law byte. */
export function muLawEncode(sample: number): number {
  const sign = sample < 0 ? 0x80 : 0;
  let magnitude = Math.min(MULAW_CLIP, Math.abs(sample)) + MULAW_BIAS;
  let exponent = 7;
  for (let mask = 0x4000; (magnitude & mask) === 0 && exponent > 0; mask >>= 1) exponent--;
  const mantissa = (magnitude >> (exponent + 3)) & 0x0f;
  magnitude = ~(sign | (exponent << 4) | mantissa) & 0xff;
  return magnitude;
}

/** One G.711 μ-law byte to a 16-bit sample. */
export function muLawDecode(byte: number): number {
  const u = ~byte & 0xff;
  const exponent = (u >> 4) & 0x07;
  const magnitude = ((((u & 0x0f) << 3) + MULAW_BIAS) << exponent) - MULAW_BIAS;
  return u & 0x80 ? -magnitude : magnitude;
}

/** One G.711 A-law byte to a 16-bit sample. */
export function aLawDecode(byte: number): number {
  const a = byte ^ 0x55;
  const exponent = (a >> 4) & 0x07;
  const mantissa = a & 0x0f;
  const magnitude = exponent === 0 ? (mantissa << 4) + 8 : ((mantissa << 4) + 0x108) << (exponent - 1);
  return a & 0x80 ? magnitude : -magnitude;
}

/**
 * The telephone path of `audio` (what a PSTN caller sounds like): resampled to 8 kHz, μ-law encoded
 * and decoded again (G.711 quantisation), still as 16-bit PCM at 8 kHz.
 */
export function telephoneQuality(audio: PcmAudio): PcmAudio {
  const narrow = resample(audio, 8000);
  const samples = new Int16Array(narrow.samples.length);
  for (let i = 0; i < samples.length; i++) samples[i] = muLawDecode(muLawEncode(narrow.samples[i]!));
  return { samples, sampleRate: 8000 };
}

/** The G.711 laws by their RTP names (RFC 3551 §4.5.14: static payload types 0 = PCMU, 8 = PCMA). */
export type G711Law = 'PCMU' | 'PCMA';

const MULAW_TABLE = Int16Array.from({ length: 256 }, (_, b) => muLawDecode(b));
const ALAW_TABLE = Int16Array.from({ length: 256 }, (_, b) => aLawDecode(b));

/**
 * An RTP payload of G.711 (one byte per sample, 8 kHz, ITU-T G.711) as 16-bit linear PCM samples, by
 * table look-up: `PCMU` μ-law (0xFF and 0x7F → 0, 0x00 → −32124, 0x80 → 32124), `PCMA` A-law
 * (0xD5 → 8, 0x55 → −8, 0xAA → 32256, 0x2A → −32256).
 */
export function decodeG711(payload: Uint8Array, law: G711Law): Int16Array {
  const table = law === 'PCMU' ? MULAW_TABLE : ALAW_TABLE;
  const out = new Int16Array(payload.length);
  for (let i = 0; i < payload.length; i++) out[i] = table[payload[i]!]!;
  return out;
}
