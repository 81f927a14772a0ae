import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { VoiceRouteRequest, VoiceRouteResponse } from '../../../common/api/voice';
import { decodeWav } from '../ai/speech/audio';
import type { TtsRequest } from '../ai/speech/types';
import { createLogger } from '../logging/logger';
import { createQueueAnnouncement, placeholderAnswer, positionText, QUEUE_TAG, queueLanguageOf } from './queue-announcement';
import { bdecode, bencode, type Bencode, type NgClient } from './rtpengine-ng';

const OFFER = [
  'v=0',
  'o=- 1 1 IN IP4 10.0.0.5',
  's=-',
  'c=IN IP4 10.0.0.5',
  't=0 0',
  'm=audio 30000 RTP/AVP 0 101',
  'a=rtpmap:0 PCMU/8000',
  'a=sendrecv',
  'a=rtcp:30001',
  '',
].join('\r\n');

/** An ng client that records the commands and answers like rtpengine (SDP for offer/answer). */
function fakeNg(fail?: string) {
  const sent: Record<string, Bencode>[] = [];
  const client: NgClient = {
    request(command) {
      sent.push(command);
      if (command.command === fail) return Promise.reject(new Error(`rtpengine ng: ${fail} failed`));
      if (command.command === 'offer') return Promise.resolve({ result: 'ok', sdp: OFFER });
      if (command.command === 'answer') return Promise.resolve({ result: 'ok', sdp: 'v=0\r\nm=audio 30002 RTP/AVP 0\r\na=sendonly\r\n' });
      return Promise.resolve({ result: 'ok' });
    },
    close() {},
  };
  return { sent, client };
}

const queued: VoiceRouteResponse = { action: 'queue', sessionId: 'SP000000000000000001', position: 1, retrySeconds: 2 };
const invite = (over: Partial<VoiceRouteRequest> = {}): VoiceRouteRequest => ({
  event: 'invite',
  callId: 'call-1',
  fromTag: 'caller-tag',
  sdp: Buffer.from('v=0\r\nm=audio 4000 RTP/AVP 0\r\n').toString('base64'),
  ...over,
});

describe('rtpengine ng bencode', () => {
  it('round-trips the dictionaries rtpengine speaks, keys sorted, strings by byte length', () => {
    const command = { command: 'play media', 'call-id': 'c1', 'from-tag': '标签', 'repeat-times': 3, flags: ['a', 'b'] };
    const encoded = bencode(command);
    expect(encoded.toString('utf8')).toBe('d7:call-id2:c17:command10:play media5:flagsl1:a1:be8:from-tag6:标签12:repeat-timesi3ee');
    expect(bdecode(encoded).value).toEqual(command);
  });

  it('refuses what is not bencode', () => {
    expect(() => bdecode(Buffer.from('d3:abc'))).toThrow(/bencode/);
    expect(() => bdecode(Buffer.from('9:short'))).toThrow(/bad string/);
  });
});

describe('queue announcement', () => {
  it('answers for a placeholder callee on port 9, send-only, without ICE or RTCP lines', () => {
    const sdp = placeholderAnswer(OFFER);
    expect(sdp).toContain('m=audio 9 RTP/AVP 0 101\r\na=sendonly\r\n');
    expect(sdp).not.toMatch(/sendrecv|a=rtcp:/);
  });

  it('plays the prompt to a newly queued caller: offer, placeholder answer, play media — and answers the SDP for 182', async () => {
    const ng = fakeNg();
    const announcement = createQueueAnnouncement({
      edge: () => ({ domain: 'h', uris: [], rtpengine: '127.0.0.1:2223', queuePrompts: { en: '/run/queue-en.wav' } }),
      logger: createLogger({ level: 'silent' }),
      client: () => ng.client,
    });
    const answer = await announcement.onRoute(invite(), queued);
    expect(answer).toMatchObject({ action: 'queue', position: 1 });
    expect(Buffer.from((answer as { sdp: string }).sdp, 'base64').toString()).toContain('m=audio 30002');
    expect(ng.sent.map((c) => c['command'])).toEqual(['offer', 'answer', 'play media']);
    expect(ng.sent[1]).toMatchObject({ 'to-tag': QUEUE_TAG, 'from-tag': 'caller-tag' });
    expect(ng.sent[2]).toMatchObject({ file: '/run/queue-en.wav', 'from-tag': 'caller-tag', 'call-id': 'call-1' });
    expect(announcement.playing.has('call-1')).toBe(true);

    // Still queued on the next poll: nothing new. Then an agent: the playback stops.
    await announcement.onRoute({ event: 'retry', callId: 'call-1', sessionId: queued.sessionId }, queued);
    expect(ng.sent).toHaveLength(3);
    await announcement.onRoute(
      { event: 'retry', callId: 'call-1' },
      { action: 'agent', sessionId: queued.sessionId, user: 'agent1', ringSeconds: 15 },
    );
    expect(ng.sent.map((c) => c['command'])).toEqual(['offer', 'answer', 'play media', 'stop media']);
    expect(announcement.playing.has('call-1')).toBe(false);
    // Its BYE later does not touch the call rtpengine now carries for the agent.
    await announcement.ended('call-1');
    expect(ng.sent).toHaveLength(4);
  });

  it('deletes the call in rtpengine when a queued caller hangs up', async () => {
    const ng = fakeNg();
    const announcement = createQueueAnnouncement({
      edge: () => ({ domain: 'h', uris: [], rtpengine: '127.0.0.1:2223', queuePrompts: { zh: '/run/queue-zh.wav' } }),
      logger: createLogger({ level: 'silent' }),
      client: () => ng.client,
    });
    await announcement.onRoute(invite(), queued);
    expect(ng.sent[2]).toMatchObject({ file: '/run/queue-zh.wav' });
    await announcement.ended('call-1');
    expect(ng.sent.slice(3).map((c) => c['command'])).toEqual(['stop media', 'delete']);
  });

  it('reads the edge file only for a call it plays to: the hang-up of a call never announced reads nothing (issue 18)', async () => {
    const ng = fakeNg();
    let reads = 0;
    const announcement = createQueueAnnouncement({
      edge: () => (reads++, { domain: 'h', uris: [], rtpengine: '127.0.0.1:2223', queuePrompts: { en: '/run/queue-en.wav' } }),
      logger: createLogger({ level: 'silent' }),
      client: () => ng.client,
    });
    // Every call's hang-up is posted here; most were answered by an agent and never queued.
    await announcement.ended('call-never-queued');
    expect(reads).toBe(0);
    expect(ng.sent).toHaveLength(0);
  });

  it('leaves the plain 182 (ringback) when there is no SDP, no rtpengine, or rtpengine fails', async () => {
    const ng = fakeNg('play media');
    const edge = { domain: 'h', uris: [] as string[], rtpengine: '127.0.0.1:2223', queuePrompts: { en: '/q.wav' } };
    const announcement = createQueueAnnouncement({ edge: () => edge, logger: createLogger({ level: 'silent' }), client: () => ng.client });
    expect(await announcement.onRoute({ event: 'invite', callId: 'call-0', fromTag: 'caller-tag' }, queued)).toEqual(queued);
    expect(ng.sent).toHaveLength(0);
    // A browser caller's DTLS-SRTP offer: no plain-RTP answer it would refuse.
    const webrtc = Buffer.from('v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=fingerprint:sha-256 AB:CD\r\n').toString('base64');
    expect(await announcement.onRoute(invite({ callId: 'call-webrtc', sdp: webrtc }), queued)).toEqual(queued);
    expect(ng.sent).toHaveLength(0);
    // rtpengine refuses to play: the caller still queues, the half-made call is deleted.
    expect(await announcement.onRoute(invite(), queued)).toEqual(queued);
    expect(ng.sent.map((c) => c['command'])).toEqual(['offer', 'answer', 'play media', 'stop media', 'delete']);
    const noRtpengine = createQueueAnnouncement({
      edge: () => ({ domain: 'h', uris: [] }),
      logger: createLogger({ level: 'silent' }),
      client: () => ng.client,
    });
    expect(await noRtpengine.onRoute(invite({ callId: 'call-2' }), queued)).toEqual(queued);
    expect(ng.sent).toHaveLength(5);
  });

  it('chooses the language by the dialled number first, then the longest caller prefix, else the default', () => {
    const config = {
      default: 'en' as const,
      byDialled: { '4008': 'zh' as const },
      byCallerPrefix: { '+86': 'zh' as const, '+8613911': 'en' as const },
    };
    expect(queueLanguageOf(config, { from: '<sip:+8613800001111@trunk>;tag=a', to: 'sip:support@h' })).toBe('zh');
    expect(queueLanguageOf(config, { from: '<sip:+8613911112222@trunk>', to: 'sip:support@h' })).toBe('en');
    expect(queueLanguageOf(config, { from: '<sip:+4930123@trunk>', to: 'sip:4008@h' })).toBe('zh');
    expect(queueLanguageOf(config, { from: '<sip:+4930123@trunk>', to: 'sip:support@h' })).toBe('en');
    expect(queueLanguageOf(config, { from: '<sip:anonymous@anonymous.invalid>' })).toBe('en');
    expect(positionText('en', 3)).toMatch(/^You are number 3 in the queue\. /);
    expect(positionText('zh', 3)).toMatch(/^您现在排在第3位。/);
  });

  it('speaks the caller’s place with the TTS in their language, plays a new place when it changes, and again when the call is parked again', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'huiliu-queue-tts-'));
    try {
      const asked: TtsRequest[] = [];
      // 0.5 s of a 440 Hz tone at 16 kHz per request: what matters is the file rtpengine gets, at 8 kHz.
      const tts = {
        langs: ['en', 'zh'] as const,
        synthesize(request: TtsRequest) {
          asked.push(request);
          const samples = Int16Array.from({ length: 8000 }, (_, i) => Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / 16000)));
          return Promise.resolve({ samples, sampleRate: 16000, wav: Buffer.alloc(0), duration: 0.5, engine: 'fake' });
        },
      };
      const ng = fakeNg();
      const announcement = createQueueAnnouncement({
        edge: () => ({
          domain: 'h',
          uris: [],
          rtpengine: '127.0.0.1:2223',
          queuePrompts: { en: join(dir, 'queue-en.wav'), zh: join(dir, 'queue-zh.wav') },
        }),
        logger: createLogger({ level: 'silent' }),
        client: () => ng.client,
        languages: { default: 'en', byDialled: {}, byCallerPrefix: { '+86': 'zh' } },
        tts,
      });
      const from = '"C" <sip:+8613800001111@trunk>;tag=x';
      await announcement.onRoute(invite({ from, to: 'sip:support@h' }), { ...queued, position: 3 });
      expect(asked).toEqual([{ text: positionText('zh', 3), lang: 'zh' }]);
      const third = join(dir, 'positions', 'queue-zh-3.wav');
      expect(ng.sent[2]).toMatchObject({ command: 'play media', file: third });
      const wav = decodeWav(readFileSync(third));
      expect(wav.sampleRate).toBe(8000);
      expect(wav.samples.length).toBe(4000);
      expect(announcement.playing.get('call-1')).toMatchObject({ lang: 'zh', position: 3 });

      // The same place on the next poll: nothing; one ahead left: the new place plays.
      await announcement.onRoute({ event: 'retry', callId: 'call-1', sessionId: queued.sessionId }, { ...queued, position: 3 });
      expect(ng.sent).toHaveLength(3);
      await announcement.onRoute({ event: 'retry', callId: 'call-1', sessionId: queued.sessionId }, { ...queued, position: 2 });
      expect(ng.sent[3]).toMatchObject({ command: 'play media', file: join(dir, 'positions', 'queue-zh-2.wav'), 'from-tag': 'caller-tag' });

      // An agent rings (stop), does not answer: Kamailio parks the call and asks again with the caller's SDP
      // (a `retry` to huiliu-queue): the announcement plays again, in the language the caller had.
      await announcement.onRoute(
        { event: 'retry', callId: 'call-1' },
        { action: 'agent', sessionId: queued.sessionId, user: 'agent1', ringSeconds: 15 },
      );
      const parked = await announcement.onRoute(
        invite({ event: 'retry', sessionId: queued.sessionId, from, to: 'sip:huiliu-queue@127.0.0.1:5060' }),
        { ...queued, position: 1 },
      );
      expect((parked as { sdp?: string }).sdp).toBeDefined();
      expect(ng.sent.slice(4).map((c) => c['command'])).toEqual(['stop media', 'offer', 'answer', 'play media']);
      expect(ng.sent.at(-1)).toMatchObject({ file: join(dir, 'positions', 'queue-zh-1.wav') });
      // Made once per language and place.
      await announcement.onRoute(invite({ callId: 'call-9', from }), { ...queued, position: 3 });
      expect(asked.map((a) => a.text)).toEqual([positionText('zh', 3), positionText('zh', 2), positionText('zh', 1)]);
      expect(existsSync(join(dir, 'positions', 'queue-zh-1.wav'))).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('plays the general prompt when the TTS fails or the queue is longer than the spoken places', async () => {
    const ng = fakeNg();
    const announcement = createQueueAnnouncement({
      edge: () => ({ domain: 'h', uris: [], rtpengine: '127.0.0.1:2223', queuePrompts: { en: '/run/queue-en.wav' } }),
      logger: createLogger({ level: 'silent' }),
      client: () => ng.client,
      languages: { default: 'en', byDialled: {}, byCallerPrefix: {} },
      tts: { langs: ['en'], synthesize: () => Promise.reject(new Error('espeak-ng missing')) },
    });
    await announcement.onRoute(invite(), { ...queued, position: 2 });
    expect(ng.sent[2]).toMatchObject({ command: 'play media', file: '/run/queue-en.wav' });
    await announcement.onRoute(invite({ callId: 'call-2' }), { ...queued, position: 150 });
    expect(ng.sent[5]).toMatchObject({ command: 'play media', file: '/run/queue-en.wav' });
  });
});
