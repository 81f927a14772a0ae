import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { decodeWav, muLawDecode, muLawEncode, resample } from '../ai/speech/audio';
import { ProsodyTextEmotion } from '../ai/speech/emotion';
import { PocketsphinxAsr } from '../ai/speech/pocketsphinx';
import { ChunkedAsrStream } from '../ai/speech/stream';
import { loadEmotionClassifier } from '../ai/core';
import { createLogger } from '../logging/logger';
import { callerMediaPort, startMediaTap, type HeardUtterance } from './media-tap';
import { buildRtpPcap, PcapRtpReader } from './pcap';

const CLIPS = join(import.meta.dirname, '../../../../shared/data/speech-asr-clips');
const work = mkdtempSync(join(tmpdir(), 'huiliu-tap-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** A clip as the caller's G.711 μ-law RTP: 160-byte (20 ms) packets from the caller to rtpengine's port 30002. */
function callerPackets(file: string, ssrc = 0x1234) {
  const pcm = resample(decodeWav(readFileSync(join(CLIPS, file))), 8000);
  const bytes = Buffer.from(Array.from(pcm.samples, muLawEncode));
  const out = [];
  for (let i = 0; i * 160 < bytes.length; i++) {
    out.push({
      src: ['127.0.0.1', 40000] as [string, number],
      dst: ['127.0.0.1', 30002] as [string, number],
      payloadType: 0,
      sequence: i,
      timestamp: i * 160,
      ssrc,
      payload: bytes.subarray(i * 160, (i + 1) * 160),
    });
  }
  return { pcm, packets: out };
}

const METADATA = (callerPort: number, agentPort: number) =>
  `/spool/pcaps/x.pcap\n\n\nTimestamp started ms: 1\nSDP mode: offer\nSDP before RTP packet: 1\n\nv=0\nm=audio ${agentPort} RTP/AVP 0\n\nTimestamp started ms: 2\nSDP mode: answer\nSDP before RTP packet: 1\n\nv=0\nc=IN IP4 127.0.0.1\nm=audio ${callerPort} RTP/AVP 0\n`;

describe('pcap RTP reader', () => {
  it('reads the records of a growing file cut anywhere, and skips RTCP and non-RTP records', () => {
    const { packets } = callerPackets('en/librispeech-2830-3980-0043.wav');
    const rtcp = { ...packets[0]!, payloadType: 72, sequence: 9999 }; // RTCP SR (200) under rtcp-mux
    const file = buildRtpPcap([packets[0]!, rtcp, ...packets.slice(1, 50)]);
    const reader = new PcapRtpReader();
    const got = [];
    for (let at = 0; at < file.length; at += 777) got.push(...reader.push(file.subarray(at, at + 777)));
    expect(reader.records).toBe(51);
    expect(got).toHaveLength(50);
    expect(got[3]).toMatchObject({
      src: { address: '127.0.0.1', port: 40000 },
      dst: { port: 30002 },
      payloadType: 0,
      sequence: 3,
      timestamp: 480,
      ssrc: 0x1234,
    });
    expect(got[3]!.payload.equals(packets[3]!.payload)).toBe(true);
    expect(() => new PcapRtpReader().push(Buffer.alloc(24))).toThrow(/not a pcap file/);
  });

  it('finds the caller leg in rtpengine metadata: the port of its answer', () => {
    expect(callerMediaPort(METADATA(30002, 30000))).toBe(30002);
    expect(callerMediaPort('/spool/pcaps/x.pcap\n\nSDP mode: offer\n\nm=audio 30000 RTP/AVP 0\n')).toBeNull();
  });
});

describe('the media tap of a call', () => {
  it(
    'transcribes the caller leg of a recording as it grows, exactly as the same audio written straight to the stream, and deletes it',
    { timeout: 180_000 },
    async () => {
      const spool = join(work, 'spool');
      for (const d of ['pcaps', 'tmp', 'metadata']) mkdirSync(join(spool, d), { recursive: true });
      const callId = 'tap-1@127.0.0.1';
      const stem = `${encodeURIComponent(callId)}-0123456789abcdef`;
      const { pcm, packets } = callerPackets('en/librispeech-2830-3980-0043.wav');
      // The agent's leg (to rtpengine's other port) is in the same file and must not be heard.
      const agent = packets.map((p) => ({
        ...p,
        src: ['127.0.0.1', 40010] as [string, number],
        dst: ['127.0.0.1', 30000] as [string, number],
        ssrc: 0x9999,
        payload: Buffer.alloc(160, 0x80),
      }));
      const mixed = packets.flatMap((p, i) => [p, agent[i]!]);
      const file = buildRtpPcap(mixed);
      writeFileSync(join(spool, 'tmp', `rtpengine-meta-${stem}.tmp`), METADATA(30002, 30000));
      const pcapPath = join(spool, 'pcaps', `${stem}.pcap`);
      writeFileSync(pcapPath, file.subarray(0, 5000));

      const asr = new PocketsphinxAsr();
      const classifier = loadEmotionClassifier();
      const emotion = new ProsodyTextEmotion({ textEmotion: (t) => classifier.classify(t) });
      const heard: HeardUtterance[] = [];
      const tap = startMediaTap(callId, async (h) => void heard.push(h), {
        recordingDir: () => spool,
        asr,
        emotion,
        lang: 'en',
        logger: createLogger({ level: 'silent' }),
        pollMs: 20,
      });
      // rtpengine appends as the call goes on.
      for (let at = 5000; at < file.length; at += 4096) {
        await new Promise((r) => setTimeout(r, 10));
        writeFileSync(pcapPath, file.subarray(0, Math.min(file.length, at + 4096)));
      }
      await tap.stop();

      // The same samples straight into a stream: what the tap heard must be identical (a lossless path).
      const direct: string[] = [];
      const stream = new ChunkedAsrStream(asr, {
        lang: 'en',
        sampleRate: 8000,
        pauseMs: 300,
        onUtterance: ({ transcript }) => void direct.push(transcript.text),
      });
      stream.write(Int16Array.from(pcm.samples, (x) => muLawDecode(muLawEncode(x))));
      await stream.end();
      expect(heard.map((h) => h.text)).toEqual(direct.filter((t) => t.trim()));
      expect(heard.length).toBeGreaterThan(0);
      for (const h of heard) {
        expect(h.engine).toMatch(/^pocketsphinx@/);
        expect(h.end).toBeGreaterThan(h.start);
        expect(Object.values(h.emotion.scores).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 2);
        expect(h.emotion.arousal).toBeGreaterThanOrEqual(0);
      }
      expect(existsSync(pcapPath)).toBe(false);
      expect(existsSync(join(spool, 'tmp', `rtpengine-meta-${stem}.tmp`))).toBe(false);
    },
  );

  it('stops quietly when no recording of the call appears', async () => {
    const spool = join(work, 'empty');
    mkdirSync(join(spool, 'pcaps'), { recursive: true });
    const classifier = loadEmotionClassifier();
    const tap = startMediaTap('nobody@x', () => Promise.resolve(), {
      recordingDir: () => spool,
      asr: new PocketsphinxAsr(),
      emotion: new ProsodyTextEmotion({ textEmotion: (t) => classifier.classify(t) }),
      lang: 'en',
      logger: createLogger({ level: 'silent' }),
      pollMs: 10,
      findWaitMs: 50,
    });
    await new Promise((r) => setTimeout(r, 100));
    await expect(tap.stop()).resolves.toBeUndefined();
  });
  /** A tap on `spool` with the real ASR; its warnings (pino JSON lines) collected in `warnings`. */
  function tapOn(
    spool: string,
    callId: string,
    heard: HeardUtterance[],
    warnings: string[],
    options: { pollMs: number; findWaitMs?: number },
  ) {
    const classifier = loadEmotionClassifier();
    return startMediaTap(callId, async (h) => void heard.push(h), {
      recordingDir: () => spool,
      asr: new PocketsphinxAsr(),
      emotion: new ProsodyTextEmotion({ textEmotion: (t) => classifier.classify(t) }),
      lang: 'en',
      logger: createLogger({ level: 'warn', destination: { write: (line: string) => void warnings.push(line) } }),
      ...options,
    });
  }

  /** Writes a whole recording of `callId` (a short clip as the caller's leg) into `spool`; answers the pcap path. */
  function record(spool: string, callId: string): string {
    for (const d of ['pcaps', 'tmp']) mkdirSync(join(spool, d), { recursive: true });
    const stem = `${encodeURIComponent(callId)}-0123456789abcdef`;
    writeFileSync(join(spool, 'tmp', `rtpengine-meta-${stem}.tmp`), METADATA(30002, 30000));
    const pcapPath = join(spool, 'pcaps', `${stem}.pcap`);
    writeFileSync(pcapPath, buildRtpPcap(callerPackets('en/librispeech-4507-16021-0012.wav').packets));
    return pcapPath;
  }

  it(
    'a spool listing that failed is a miss of that poll: the tap finds the recording once the spool lists again',
    { timeout: 60_000 },
    async () => {
      const spool = join(work, 'listing-failed');
      mkdirSync(spool, { recursive: true });
      // `pcaps` is not a directory yet: readdir fails with ENOTDIR (as EMFILE or EIO would), not ENOENT.
      writeFileSync(join(spool, 'pcaps'), '');
      const heard: HeardUtterance[] = [];
      const warnings: string[] = [];
      const tap = tapOn(spool, 'listing@x', heard, warnings, { pollMs: 10 });
      await new Promise((r) => setTimeout(r, 60));
      unlinkSync(join(spool, 'pcaps'));
      const pcapPath = record(spool, 'listing@x');
      await new Promise((r) => setTimeout(r, 200));
      await tap.stop();
      expect(warnings.join('')).not.toContain('no more live transcript');
      expect(warnings.join('')).toContain('listing the media spool failed');
      expect(warnings.join('')).not.toContain('listing@x');
      expect(heard.length).toBeGreaterThan(0);
      expect(existsSync(pcapPath)).toBe(false);
    },
  );

  it(
    'a listing is shared for its age on the monotonic clock: the wall clock set back does not keep a stale one',
    { timeout: 60_000 },
    async () => {
      const spool = join(work, 'clock');
      mkdirSync(join(spool, 'pcaps'), { recursive: true });
      const heard: HeardUtterance[] = [];
      const warnings: string[] = [];
      const tap = tapOn(spool, 'clock@x', heard, warnings, { pollMs: 10, findWaitMs: 60_000 });
      await new Promise((r) => setTimeout(r, 50));
      const real = Date.now.bind(Date);
      // NTP steps the clock back an hour while the tap looks for its recording.
      const setBack = vi.spyOn(Date, 'now').mockImplementation(() => real() - 3_600_000);
      try {
        record(spool, 'clock@x');
        await new Promise((r) => setTimeout(r, 200));
        await tap.stop();
      } finally {
        setBack.mockRestore();
      }
      expect(heard.length).toBeGreaterThan(0);
    },
  );

  it("a tap that gave up looking still deletes its call's recording when it stops (the caller's voice is not left in the spool)", async () => {
    const spool = join(work, 'late');
    mkdirSync(join(spool, 'pcaps'), { recursive: true });
    const warnings: string[] = [];
    const tap = tapOn(spool, 'late@x', [], warnings, { pollMs: 10, findWaitMs: 30 });
    await new Promise((r) => setTimeout(r, 100));
    expect(warnings.join('')).toContain('no recording of the call found');
    // rtpengine's file shows up after the tap stopped looking (a slow spool, a call set up late).
    const pcapPath = record(spool, 'late@x');
    await tap.stop();
    expect(existsSync(pcapPath)).toBe(false);
  });
});
