import { resample } from './audio';
import type { PcmAudio, ProsodyFeatures } from './types';

/**
 * Prosody of speech from its PCM (issue 18): loudness, pitch (YIN), pitch range and speaking rate —
 * the arousal cues emotion research reads from the voice (loud, fast, wide-ranging speech for anger,
 * fear, joy; quiet, slow, flat speech for sadness). Analysis runs at 8 kHz (enough for F0 up to
 * 400 Hz and the telephone band) in 40 ms frames every 10 ms: ~40 ms of CPU per second of audio (loaded 2-core machine).
 */

const RATE = 8000;
const WINDOW = 320; // 40 ms
const HOP = 80; // 10 ms
const F0_MIN = 60;
const F0_MAX = 400;
/** YIN's absolute threshold on the cumulative mean normalised difference (de Cheveigné & Kawahara 2002, §II.D). */
const YIN_THRESHOLD = 0.15;
/** A frame whose best normalised difference is above this is unvoiced. */
const YIN_VOICED_MAX = 0.35;

const round = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d;

/**
 * F0 of one frame by YIN (difference function, cumulative mean normalisation, absolute threshold,
 * parabolic interpolation), or null when unvoiced.
 * @param frame samples (any scale) at `rate` Hz, at least 2 periods of F0_MIN long
 */
export function yinPitch(frame: ArrayLike<number>, rate: number, minHz = F0_MIN, maxHz = F0_MAX): number | null {
  const maxLag = Math.min(Math.floor(rate / minHz), Math.floor(frame.length / 2));
  const minLag = Math.max(2, Math.floor(rate / maxHz));
  const n = frame.length - maxLag;
  const d = new Float64Array(maxLag + 1);
  for (let lag = 1; lag <= maxLag; lag++) {
    let sum = 0;
    for (let i = 0; i < n; i++) {
      const diff = frame[i]! - frame[i + lag]!;
      sum += diff * diff;
    }
    d[lag] = sum;
  }
  // Cumulative mean normalised difference d'(τ) = d(τ) · τ / Σ_{j≤τ} d(j).
  let running = 0;
  const cmnd = new Float64Array(maxLag + 1);
  cmnd[0] = 1;
  for (let lag = 1; lag <= maxLag; lag++) {
    running += d[lag]!;
    cmnd[lag] = running === 0 ? 1 : (d[lag]! * lag) / running;
  }
  let best = -1;
  for (let lag = minLag; lag <= maxLag; lag++) {
    if (cmnd[lag]! < YIN_THRESHOLD) {
      while (lag + 1 <= maxLag && cmnd[lag + 1]! < cmnd[lag]!) lag++;
      best = lag;
      break;
    }
  }
  if (best < 0) {
    // No dip under the threshold: the global minimum, if it is low enough to call the frame voiced.
    let min = Infinity;
    for (let lag = minLag; lag <= maxLag; lag++) {
      if (cmnd[lag]! < min) {
        min = cmnd[lag]!;
        best = lag;
      }
    }
    if (min > YIN_VOICED_MAX) return null;
  }
  let period = best;
  if (best > minLag && best < maxLag) {
    const a = cmnd[best - 1]!;
    const b = cmnd[best]!;
    const c = cmnd[best + 1]!;
    const denom = a - 2 * b + c;
    if (denom !== 0) period = best + (0.5 * (a - c)) / denom;
  }
  return rate / period;
}

/**
 * The prosody features of `audio` (see `ProsodyFeatures` for each one's unit). Speech frames are
 * those at least 10 dB above the quietest tenth of the frames and above −55 dBFS; syllables are
 * peaks of the smoothed speech-frame energy at least 3 dB above the dip before them and 100 ms
 * apart; `wordsPerSecond` counts the transcript's words (Chinese: its Han characters, one
 * syllable each) over the seconds of speech.
 */
export function prosodyFeatures(audio: PcmAudio, transcript?: string): ProsodyFeatures {
  const pcm = resample(audio, RATE).samples;
  const duration = audio.samples.length / audio.sampleRate;
  const frames = Math.max(0, Math.floor((pcm.length - WINDOW) / HOP) + 1);
  const db = new Float64Array(frames);
  const power = new Float64Array(frames);
  for (let f = 0; f < frames; f++) {
    let sum = 0;
    for (let i = 0; i < WINDOW; i++) {
      const x = pcm[f * HOP + i]! / 32768;
      sum += x * x;
    }
    power[f] = sum / WINDOW;
    db[f] = power[f]! <= 1e-10 ? -100 : 10 * Math.log10(power[f]!);
  }
  const sorted = [...db].sort((a, b) => a - b);
  const floor = sorted.length ? sorted[Math.floor(sorted.length * 0.1)]! : -100;
  const threshold = Math.max(-55, floor + 10);
  const speech: boolean[] = [...db].map((x) => x >= threshold);
  const speechFrames = speech.filter(Boolean).length;
  const speechSeconds = (speechFrames * HOP) / RATE;

  let speechPower = 0;
  const pitches: number[] = [];
  const frame = new Float64Array(WINDOW);
  for (let f = 0; f < frames; f++) {
    if (!speech[f]) continue;
    speechPower += power[f]!;
    for (let i = 0; i < WINDOW; i++) frame[i] = pcm[f * HOP + i]!;
    const hz = yinPitch(frame, RATE);
    if (hz !== null && hz >= F0_MIN && hz <= F0_MAX) pitches.push(hz);
  }
  const rmsDb = speechFrames ? 10 * Math.log10(Math.max(1e-10, speechPower / speechFrames)) : -96;

  let pitchHz = 0;
  let pitchSd = 0;
  if (pitches.length > 0) {
    const p = [...pitches].sort((a, b) => a - b);
    pitchHz = p[Math.floor(p.length / 2)]!;
    // Octave jumps of the tracker are clipped to ±12 semitones so one error cannot dominate the spread.
    const st = pitches.map((h) => Math.max(-12, Math.min(12, 12 * Math.log2(h / pitchHz))));
    const mean = st.reduce((s, x) => s + x, 0) / st.length;
    pitchSd = Math.sqrt(st.reduce((s, x) => s + (x - mean) ** 2, 0) / st.length);
  }

  // Syllable nuclei: peaks of the energy envelope (dB, smoothed over 50 ms) inside speech.
  const smooth = new Float64Array(frames);
  for (let f = 0; f < frames; f++) {
    let s = 0;
    let n = 0;
    for (let k = Math.max(0, f - 2); k <= Math.min(frames - 1, f + 2); k++, n++) s += db[k]!;
    smooth[f] = s / n;
  }
  let syllables = 0;
  let lastPeak = -Infinity;
  let dip = Infinity;
  for (let f = 1; f < frames - 1; f++) {
    dip = Math.min(dip, smooth[f]!);
    const peak = smooth[f]! >= smooth[f - 1]! && smooth[f]! > smooth[f + 1]!;
    if (peak && speech[f] && smooth[f]! - dip >= 3 && f - lastPeak >= 10) {
      syllables++;
      lastPeak = f;
      dip = smooth[f]!;
    }
  }

  let wordsPerSecond: number | null = null;
  if (transcript !== undefined && speechSeconds > 0) {
    const han = (transcript.match(/\p{Script=Han}/gu) ?? []).length;
    const words = (transcript.replace(/\p{Script=Han}/gu, ' ').match(/[\p{L}\p{N}']+/gu) ?? []).length;
    wordsPerSecond = round((han + words) / speechSeconds);
  }
  return {
    duration: round(duration, 3),
    voicedSeconds: round((pitches.length * HOP) / RATE, 3),
    rmsDb: round(rmsDb),
    pitchHz: round(pitchHz, 1),
    pitchSdSemitones: round(pitchSd),
    syllablesPerSecond: speechSeconds > 0 ? round(syllables / speechSeconds) : 0,
    wordsPerSecond,
  };
}
