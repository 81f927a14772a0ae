import { open, readdir, readFile, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { EmotionResult, Lang } from '../../../common/ai/types';
import { decodeG711, type G711Law } from '../ai/speech/audio';
import { ChunkedAsrStream } from '../ai/speech/stream';
import type { Asr, SpeechEmotion } from '../ai/speech/types';
import type { Logger } from '../logging/logger';
import { PcapRtpReader, type RecordedRtp } from './pcap';

/**
 * The server-side media tap of a call (issue 18, docs/voice.md "Live transcripts"): rtpengine records
 * each call's media as a pcap in its spool directory while the call runs (`recording-method=pcap`,
 * Kamailio's `record-call=yes`); this reads the caller's leg from that file as it grows, decodes
 * G.711 to 16-bit PCM at 8 kHz, cuts it into utterances at pauses (`ChunkedAsrStream`'s energy
 * detector) and hands each transcribed utterance, with its speech emotion, to `onHeard`. The agent's
 * desktop plays no part. The recording is deleted when the call ends.
 */

/** What the caller said in one utterance, and how it sounded. */
export interface HeardUtterance {
  text: string;
  /** Seconds from the start of the call's media. */
  start: number;
  end: number;
  /** Mean of the engine's segment confidences, or null. */
  confidence: number | null;
  engine: string;
  /** Prosody + the transcript's text emotion (`SpeechEmotion`), with its arousal 0..1. */
  emotion: EmotionResult & { arousal: number };
}

export interface MediaTapDeps {
  /** rtpengine's `recording-dir` (its `pcaps/`, `tmp/`, `metadata/`), or null when no edge records. */
  recordingDir: () => string | null;
  asr: Asr;
  emotion: SpeechEmotion;
  lang: Lang;
  logger: Logger;
  /** How often the growing file is read (ms, default 100). */
  pollMs?: number;
  /** A pause this long ends an utterance (ms, default 300). */
  pauseMs?: number;
  /** How long a tap looks for its recording before it gives up (ms, default 10,000). */
  findWaitMs?: number;
}

/** A running tap; `stop` reads the rest, transcribes the last utterance, deletes the recording. Never rejects. */
export interface MediaTap {
  stop(): Promise<void>;
}

/** RTP static payload types of G.711 (RFC 3551 table 4). */
const G711: Record<number, G711Law> = { 0: 'PCMU', 8: 'PCMA' };
const RATE = 8000;
/** A gap in the caller's RTP timestamps up to this many samples is filled with silence (lost packets, DTX). */
const MAX_GAP_SAMPLES = RATE * 2;

/** rtpengine's file name stem of a call: its Call-ID, URL-escaped, then `-` and 16 hex digits. */
function callIdOfStem(stem: string): string | null {
  const m = /^(.*)-[0-9a-f]{16}$/i.exec(stem);
  if (!m) return null;
  try {
    return decodeURIComponent(m[1]!);
  } catch {
    return null;
  }
}

/**
 * The port rtpengine gave the caller in its answer (the first `SDP mode: answer` block of the
 * recording's metadata): packets sent to it are the caller's. Null until that block is written.
 */
export function callerMediaPort(metadata: string): number | null {
  const block = metadata.split(/\nSDP mode: /).find((b) => b.startsWith('answer'));
  const m = block ? /^m=audio (\d+) /m.exec(block) : null;
  return m ? Number(m[1]) : null;
}

/**
 * The names in a spool's `pcaps/` directory, listed once per `maxAgeMs` (ms) for every tap of that
 * spool (a tap per answered call polls it every `pollMs` until its call's file shows up: N calls each
 * listing N files was O(N²) per poll). A missing directory lists as empty. The newest listings of a
 * few spools are kept; a listing that failed is not (the next caller lists again), and ages are on the
 * monotonic clock (a wall clock set back would keep a stale listing, and the taps waiting on it, for as
 * long as it went back). `maxAgeMs` 0: a fresh listing. Rejects with the directory's read error.
 */
const listings = new Map<string, { at: number; names: Promise<string[]> }>();
function pcapNames(dir: string, maxAgeMs: number): Promise<string[]> {
  const t = performance.now();
  const kept = listings.get(dir);
  if (kept && t - kept.at < maxAgeMs) return kept.names;
  const names = readdir(dir).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return [];
    if (listings.get(dir)?.names === names) listings.delete(dir);
    throw error;
  });
  listings.delete(dir);
  if (listings.size >= 8) listings.delete(listings.keys().next().value!);
  listings.set(dir, { at: t, names });
  return names;
}

/** Reads a file, or null when it does not exist (yet). */
async function readIfThere(path: string): Promise<string | null> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

/** Starts the tap of the call with this SIP Call-ID. Errors reading the recording are logged; the tap then stops quietly. */
export function startMediaTap(callId: string, onHeard: (heard: HeardUtterance) => Promise<void>, deps: MediaTapDeps): MediaTap {
  const log = deps.logger.child({ component: 'media-tap' });
  const pollMs = deps.pollMs ?? 100;
  const started = performance.now();
  const stream = new ChunkedAsrStream(deps.asr, {
    lang: deps.lang,
    sampleRate: RATE,
    pauseMs: deps.pauseMs ?? 300,
    onUtterance: async ({ audio, start, transcript }) => {
      const text = transcript.text.trim();
      if (!text) return;
      const confidences = transcript.segments.flatMap((s) => (s.confidence === null ? [] : [s.confidence]));
      const heard = deps.emotion.analyze({ audio, transcript: text });
      await onHeard({
        text,
        start,
        end: start + audio.samples.length / audio.sampleRate,
        confidence: confidences.length ? confidences.reduce((a, b) => a + b, 0) / confidences.length : null,
        engine: transcript.engine,
        emotion: { label: heard.label, intensity: heard.intensity, scores: heard.scores, arousal: heard.arousal },
      });
    },
    onError: (error) => log.warn({ code: error.code }, 'an utterance of a call was not transcribed'),
  });

  let stem: string | null = null;
  let file: FileHandle | null = null;
  let offset = 0;
  const reader = new PcapRtpReader();
  let callerPort: number | null = null;
  let callerSsrc: number | null = null;
  let nextTimestamp: number | null = null;
  let stopped = false;
  let failed = false;
  /** A spool listing failed once (logged once per tap). */
  let listFailed = false;
  let timer: NodeJS.Timeout | null = null;
  let busy: Promise<void> = Promise.resolve();
  /** The read buffer, made when the recording is found (a tap whose call never records allocates none). */
  let chunk: Buffer | null = null;

  const dir = () => deps.recordingDir();
  const metaPath = (d: string, s: string) => [
    join(d, 'tmp', `rtpengine-meta-${s}.tmp`),
    join(d, 'metadata', `rtpengine-meta-${s}.txt`),
    join(d, 'metadata', `${s}.txt`),
  ];

  /** The call's file stem in the spool, or null; `maxAgeMs`: how old a shared listing may be (ms). */
  async function find(d: string, maxAgeMs = pollMs / 2): Promise<string | null> {
    for (const name of await pcapNames(join(d, 'pcaps'), maxAgeMs)) {
      const s = name.replace(/\.pcap$/, '');
      if (s !== name && callIdOfStem(s) === callId) return s;
    }
    return null;
  }

  function feed(p: RecordedRtp): void {
    const law = G711[p.payloadType];
    if (!law) return;
    if (callerPort !== null ? p.dst.port !== callerPort : callerSsrc !== null && p.ssrc !== callerSsrc) return;
    // One source per call leg: a new SSRC (a re-INVITE, a trunk's media change) restarts the clock.
    if (callerSsrc !== p.ssrc) {
      callerSsrc = p.ssrc;
      nextTimestamp = null;
    }
    if (nextTimestamp !== null) {
      const gap = (p.timestamp - nextTimestamp) >>> 0;
      if (gap > MAX_GAP_SAMPLES) {
        // Late or duplicate (the timestamp went back): already covered.
        if (gap > 0x80000000) return;
      } else if (gap > 0) stream.write(new Int16Array(gap));
    }
    const samples = decodeG711(p.payload, law);
    stream.write(samples);
    nextTimestamp = (p.timestamp + samples.length) >>> 0;
  }

  async function poll(): Promise<void> {
    if (failed) return;
    const d = dir();
    if (!d) return;
    if (!stem) {
      // A listing that failed (EMFILE with many calls open, a spool being remounted) is shared by every
      // tap still looking: it is a miss of this poll, not the end of their transcripts.
      stem = await find(d).catch((error: NodeJS.ErrnoException) => {
        if (!listFailed) log.warn({ code: error.code }, 'listing the media spool failed; looking again');
        listFailed = true;
        return null;
      });
      if (!stem) {
        if (performance.now() - started > (deps.findWaitMs ?? 10_000) && !failed) {
          failed = true;
          log.warn('no recording of the call found in the media spool: no live transcript');
        }
        return;
      }
      file = await open(join(d, 'pcaps', `${stem}.pcap`), 'r');
    }
    if (callerPort === null) {
      for (const path of metaPath(d, stem)) {
        const metadata = await readIfThere(path);
        if (metadata === null) continue;
        callerPort = callerMediaPort(metadata);
        if (callerPort !== null) break;
      }
    }
    chunk ??= Buffer.alloc(64 * 1024);
    for (;;) {
      const { bytesRead } = await file!.read(chunk, 0, chunk.length, offset);
      if (bytesRead === 0) break;
      offset += bytesRead;
      for (const p of reader.push(Buffer.from(chunk.subarray(0, bytesRead)))) feed(p);
    }
  }

  const tick = () => {
    busy = busy
      .then(poll)
      .catch((error: unknown) => {
        failed = true;
        log.warn({ err: error }, 'reading the call recording failed: no more live transcript');
      })
      .finally(() => {
        if (!stopped) timer = setTimeout(tick, pollMs);
      });
  };
  timer = setTimeout(tick, 0);

  return {
    async stop() {
      if (stopped) return;
      stopped = true;
      if (timer) clearTimeout(timer);
      await busy;
      const d = dir();
      // What rtpengine has written so far: it buffers up to 4 KB (≈ 0.4 s of one leg) until it closes the
      // recording, which is after Kamailio's `ended` notice is answered, so that tail is not waited for.
      await poll().catch((error: unknown) => log.warn({ err: error }, 'reading the end of the call recording failed'));
      await file?.close().catch(() => undefined);
      await stream.end();
      // A tap that gave up looking (or looked at a listing older than the file) still deletes the
      // call's recording if it is there now: a fresh listing, whatever the tap's state.
      if (d && !stem) stem = await find(d, 0).catch(() => null);
      if (d && stem) {
        // The recording is the caller's voice: personal data, kept no longer than the call.
        await Promise.all(
          [join(d, 'pcaps', `${stem}.pcap`), ...metaPath(d, stem)].map((path) =>
            unlink(path).catch((error: NodeJS.ErrnoException) => {
              if (error.code !== 'ENOENT') log.warn({ code: error.code }, 'a call recording could not be deleted');
            }),
          ),
        );
      }
    },
  };
}
