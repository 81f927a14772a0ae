import { existsSync, readdirSync, rmSync } from 'node:fs';
import { open, readFile, type FileHandle } from 'node:fs/promises';
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

/** Starts the tap of the call with this SIP Call-ID. Errors reading the recording are logged; the tap then stops quietly. */
export function startMediaTap(callId: string, onHeard: (heard: HeardUtterance) => Promise<void>, deps: MediaTapDeps): MediaTap {
  const log = deps.logger.child({ component: 'media-tap' });
  const pollMs = deps.pollMs ?? 100;
  const started = Date.now();
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
  let timer: NodeJS.Timeout | null = null;
  let busy: Promise<void> = Promise.resolve();

  const dir = () => deps.recordingDir();
  const metaPath = (d: string, s: string) => [
    join(d, 'tmp', `rtpengine-meta-${s}.tmp`),
    join(d, 'metadata', `rtpengine-meta-${s}.txt`),
    join(d, 'metadata', `${s}.txt`),
  ];

  function find(d: string): string | null {
    const pcaps = join(d, 'pcaps');
    if (!existsSync(pcaps)) return null;
    for (const name of readdirSync(pcaps)) {
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
      stem = find(d);
      if (!stem) {
        if (Date.now() - started > (deps.findWaitMs ?? 10_000) && !failed) {
          failed = true;
          log.warn('no recording of the call found in the media spool: no live transcript');
        }
        return;
      }
      file = await open(join(d, 'pcaps', `${stem}.pcap`), 'r');
    }
    if (callerPort === null) {
      for (const path of metaPath(d, stem)) {
        if (!existsSync(path)) continue;
        callerPort = callerMediaPort(await readFile(path, 'utf8'));
        if (callerPort !== null) break;
      }
    }
    const chunk = Buffer.alloc(64 * 1024);
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
      if (d && stem) {
        // The recording is the caller's voice: personal data, kept no longer than the call.
        for (const path of [join(d, 'pcaps', `${stem}.pcap`), ...metaPath(d, stem)]) rmSync(path, { force: true });
      }
    },
  };
}
