import { randomBytes } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { existsSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { decodeG711, decodeWav } from '../src/ai/speech/audio';
import type { VoiceCredentials } from '../../common/api/voice';
import { assertVoiceBinaries, freeSipPort, startVoiceEdge, type RunningEdge } from '../src/voice/edge-process';
import { openAgentSocket } from './support/agent-client';
import { until } from './support/until';
import { startTestServer, type TestServer } from './support/harness';
import { freeMediaPort, refusedPosts, registeredPhone, runSipp, SCENARIOS, sippRegisterArgs } from './support/sip';

const bind = (socket: Socket) => new Promise<number>((resolve) => socket.bind(0, '127.0.0.1', () => resolve(socket.address().port)));

/**
 * A caller written here (a UDP SIP UA with its own RTP port), so the test sees every reply and every RTP
 * packet: `invite()` sends the INVITE with a PCMU offer, `reply()` waits for a status of a method.
 */
async function openCaller(sipPort: number, dial = 'support', number = '+8613900001111') {
  const sip = createSocket('udp4');
  const media = createSocket('udp4');
  const localSip = await bind(sip);
  const mediaPort = await bind(media);
  const rtp = rtpCounter(media);
  const replies: { at: number; text: string }[] = [];
  sip.on('message', (msg: Buffer) => {
    const text = msg.toString('latin1');
    if (text.startsWith('SIP/2.0')) replies.push({ at: Date.now(), text });
  });
  const send = (text: string) => sip.send(text, sipPort, '127.0.0.1');
  const callId = `${randomBytes(8).toString('hex')}@127.0.0.1`;
  const branch = `z9hG4bK${randomBytes(6).toString('hex')}`;
  const fromTag = randomBytes(4).toString('hex');
  const target = `sip:${dial}@127.0.0.1:${sipPort}`;
  const headers = (method: string, cseq = 1, extra: string[] = [], via = branch) => [
    `${method} ${target} SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:${localSip};branch=${via};rport`,
    'Max-Forwards: 70',
    `From: "Caller" <sip:${number}@127.0.0.1:${localSip}>;tag=${fromTag}`,
    `To: <${target}>`,
    `Call-ID: ${callId}`,
    `CSeq: ${cseq} ${method}`,
    ...extra,
  ];
  return {
    rtp,
    media,
    replies,
    send,
    headers,
    invite() {
      const sdp = [
        'v=0',
        'o=caller 1 1 IN IP4 127.0.0.1',
        's=-',
        'c=IN IP4 127.0.0.1',
        't=0 0',
        `m=audio ${mediaPort} RTP/AVP 0 101`,
        'a=rtpmap:0 PCMU/8000',
        'a=rtpmap:101 telephone-event/8000',
        'a=sendrecv',
        '',
      ].join('\r\n');
      send(
        [
          ...headers('INVITE', 1, [
            `Contact: <sip:caller@127.0.0.1:${localSip}>`,
            'Content-Type: application/sdp',
            `Content-Length: ${Buffer.byteLength(sdp)}`,
          ]),
          '',
          sdp,
        ].join('\r\n'),
      );
    },
    async reply(status: RegExp, method: string, ms = 15_000) {
      const end = Date.now() + ms;
      for (;;) {
        const hit = replies.find((r) => status.test(r.text) && new RegExp(`^CSeq: \\d+ ${method}`, 'mi').test(r.text));
        if (hit) return hit;
        if (Date.now() > end)
          throw new Error(`no ${status} for ${method}; got:\n${replies.map((r) => r.text.split('\r\n')[0]).join('\n')}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    close() {
      sip.close();
      media.close();
    },
  };
}

/** What the caller's RTP port received: packets, their payload types, and μ-law payload bytes. */
function rtpCounter(socket: Socket) {
  const packets: { at: number; pt: number; payload: Buffer }[] = [];
  socket.on('message', (msg: Buffer) => {
    if (msg.length < 12 || msg[0]! >> 6 !== 2) return;
    packets.push({ at: Date.now(), pt: msg[1]! & 0x7f, payload: msg.subarray(12) });
  });
  return {
    packets,
    since: (t: number) => packets.filter((p) => p.at >= t),
  };
}

/** RMS of 16-bit PCM, dBFS. */
const dbfs = (pcm: Int16Array) => {
  let sum = 0;
  for (const v of pcm) sum += v * v;
  return 20 * Math.log10(Math.sqrt(sum / Math.max(1, pcm.length)) / 32768 || 1e-9);
};

/** Loudness of each 20 ms frame (dB), from the first frame above −45 dBFS on, for `seconds`. */
function envelope(pcm: Int16Array, seconds: number): number[] {
  const frames: number[] = [];
  for (let i = 0; i + 160 <= pcm.length; i += 160) frames.push(dbfs(pcm.subarray(i, i + 160)));
  const start = frames.findIndex((db) => db > -45);
  return frames.slice(Math.max(0, start), Math.max(0, start) + seconds * 50).map((db) => Math.max(db, -60));
}

/** The best Pearson correlation of two loudness envelopes within ±`lag` frames (timing of the first syllable may differ). */
function likeness(a: number[], b: number[], lag = 10): number {
  let best = -1;
  for (let d = -lag; d <= lag; d++) {
    const pairs: [number, number][] = [];
    for (let i = 0; i < a.length; i++) if (i + d >= 0 && i + d < b.length) pairs.push([a[i]!, b[i + d]!]);
    const n = pairs.length;
    const ma = pairs.reduce((s, p) => s + p[0], 0) / n;
    const mb = pairs.reduce((s, p) => s + p[1], 0) / n;
    let num = 0;
    let va = 0;
    let vb = 0;
    for (const [x, y] of pairs) {
      num += (x - ma) * (y - mb);
      va += (x - ma) ** 2;
      vb += (y - mb) ** 2;
    }
    best = Math.max(best, num / Math.sqrt(va * vb || 1));
  }
  return best;
}

/**
 * Issue 18, the queue announcement: the real edge (Kamailio + rtpengine) and server, nobody online, so a
 * call is queued. The caller — a UDP SIP UA written here, with its own RTP port — gets `182 Queued` with
 * an SDP answer (rtpengine's port: early media) and receives the announcement as RTP PCMU while it waits
 * (counted and decoded: speech, not silence); its CANCEL ends the call and the playback stops.
 */
describe('queue announcement: a queued caller hears queue-en.wav as early media', () => {
  let s: TestServer;
  let edge: RunningEdge;

  beforeAll(async () => {
    assertVoiceBinaries();
    s = await startTestServer();
    // Plain SIP/RTP callers only: no WSS, and the loopback ws listener (opt-in) so the edge has a WebSocket way in.
    edge = await startVoiceEdge({ dataDir: s.dataDir, serverUrl: s.url, queuePollSeconds: 1, tls: false, ws: true });
  }, 60_000);

  afterAll(async () => {
    await edge?.stop();
    await s?.cleanup();
  });

  it('answers 182 Queued with SDP, plays the prompt to the caller while queued, and stops when the caller cancels', async () => {
    const caller = await openCaller(edge.sipPort);
    caller.invite();
    try {
      const queued = await caller.reply(/^SIP\/2\.0 182 /, 'INVITE');
      expect(queued.text).toMatch(/^X-Huiliu-Queue-Position: 1$/m);
      expect(queued.text).toMatch(/^Content-Type: application\/sdp$/im);
      // rtpengine's side of the call, facing the caller: its address and a port of its media range.
      const answer = queued.text.split('\r\n\r\n')[1] ?? '';
      expect(answer).toMatch(/^c=IN IP4 127\.0\.0\.1$/m);
      expect(answer).toMatch(/^m=audio \d+ RTP\/AVP 0/m);
      expect(answer).toMatch(/^a=sendonly$/m);

      // Three seconds of waiting in the queue: the announcement arrives as 20 ms PCMU packets.
      await new Promise((r) => setTimeout(r, 3000));
      const heard = caller.rtp.since(queued.at);
      process.stdout.write(`[queue-announcement] ${heard.length} RTP packets in the 3 s after 182 Queued\n`);
      expect(heard.length).toBeGreaterThan(100);
      expect(new Set(heard.map((p) => p.pt))).toEqual(new Set([0]));
      const pcm = decodeG711(Buffer.concat(heard.map((p) => p.payload)), 'PCMU');
      // espeak-ng's words, not comfort noise: the loudest 100 ms is well above −40 dBFS.
      let loudest = -Infinity;
      for (let i = 0; i + 800 <= pcm.length; i += 800) loudest = Math.max(loudest, dbfs(pcm.subarray(i, i + 800)));
      expect(loudest).toBeGreaterThan(-40);

      const parked = (await s.services.store.listSessions({ status: ['queued'] })).filter((x) => x.channel === 'SP');
      expect(parked).toHaveLength(1);
      // The caller gives up: CANCEL → 200, the INVITE → 487; the playback stops.
      caller.send([...caller.headers('CANCEL'), 'Content-Length: 0', '', ''].join('\r\n'));
      await caller.reply(/^SIP\/2\.0 200 /, 'CANCEL');
      const terminated = await caller.reply(/^SIP\/2\.0 487 /, 'INVITE');
      const toLine = terminated.text.split('\r\n').find((l) => /^To:/i.test(l))!;
      caller.send([...caller.headers('ACK').map((l) => (/^To:/i.test(l) ? toLine : l)), 'Content-Length: 0', '', ''].join('\r\n'));
      // Kamailio deletes the call in rtpengine on the CANCEL (route[QUEUE_MEDIA_CANCEL]): silence at once.
      await new Promise((r) => setTimeout(r, 2000));
      const last = caller.rtp.packets.at(-1)!.at;
      process.stdout.write(`[queue-announcement] last RTP packet ${last - terminated.at} ms after the 487\n`);
      expect(last - terminated.at).toBeLessThan(300);
      // The server heard it (route[PARKED_CANCEL]): the SP session is abandoned, not left queued.
      await until(async () => (await s.services.store.getSession(parked[0]!.id))?.status === 'closed', 5000);
      expect((await s.services.store.listSessions({ status: ['queued'] })).filter((x) => x.channel === 'SP')).toHaveLength(0);
    } finally {
      caller.close();
    }
  }, 60_000);

  it('connects a queued caller to the agent who comes online: the prompt stops and the call’s media flows both ways', async () => {
    const phonePort = await freeSipPort();
    const phoneMedia = await freeMediaPort();
    // The agent's phone: a sipp UAS that answers one call and echoes its RTP.
    const phone = runSipp(
      ['-sf', join(SCENARIOS, 'phone.xml'), '-p', String(phonePort), '-m', '1', '-mp', String(phoneMedia), '-rtp_echo'],
      60_000,
    );
    const res = await s.app.inject({
      method: 'GET',
      url: '/api/v1/voice/credentials',
      headers: { authorization: `Bearer ${await s.login('agent1')}` },
    });
    const creds = res.json<VoiceCredentials>();
    const registered = await runSipp(
      sippRegisterArgs(edge.sipPort, { user: 'agent1', contactPort: phonePort, username: creds.username, password: creds.password }),
      15_000,
    );
    expect(registered.code, registered.out).toBe(0);

    const caller = await openCaller(edge.sipPort);
    caller.invite();
    let agent: Awaited<ReturnType<typeof openAgentSocket>> | null = null;
    try {
      const queued = await caller.reply(/^SIP\/2\.0 182 /, 'INVITE');
      await new Promise((r) => setTimeout(r, 1000));
      expect(caller.rtp.since(queued.at).length).toBeGreaterThan(25);

      // agent1 signs in to the desk: the router offers the queued call, Kamailio rings the phone.
      agent = await openAgentSocket(s, await s.login('agent1'));
      const ok = await caller.reply(/^SIP\/2\.0 200 /, 'INVITE', 20_000);
      const sdp = ok.text.split('\r\n\r\n')[1] ?? '';
      const mediaPort = Number(sdp.match(/^m=audio (\d+) /m)?.[1]);
      const contact = ok.text.match(/^Contact:\s*<([^>]+)>/im)![1]!;
      const routes = [...ok.text.matchAll(/^Record-Route:\s*(.+)$/gim)].flatMap((m) => m[1]!.split(/,\s*(?=<)/)).reverse();
      const toLine = ok.text.split('\r\n').find((l) => /^To:/i.test(l))!;
      const inDialog = (method: string, cseq: number) =>
        [
          ...caller
            .headers(method, cseq, [], `z9hG4bK${randomBytes(6).toString('hex')}`)
            .map((l, i) => (i === 0 ? `${method} ${contact} SIP/2.0` : /^To:/i.test(l) ? toLine : l)),
          ...routes.map((r) => `Route: ${r}`),
          'Content-Length: 0',
          '',
          '',
        ].join('\r\n');
      caller.send(inDialog('ACK', 1));

      // The caller talks (PCMU packets of 0x2a): the agent's phone echoes them back through rtpengine.
      const answered = Date.now();
      const ssrc = randomBytes(4);
      for (let seq = 0; seq < 50; seq++) {
        const header = Buffer.from([0x80, 0, seq >> 8, seq & 0xff, 0, 0, (seq * 160) >> 8, (seq * 160) & 0xff, ...ssrc]);
        caller.media.send(Buffer.concat([header, Buffer.alloc(160, 0x2a)]), mediaPort, '127.0.0.1');
        await new Promise((r) => setTimeout(r, 20));
      }
      await new Promise((r) => setTimeout(r, 500));
      const isEcho = (p: { payload: Buffer }) => p.payload.length > 0 && p.payload.every((b) => b === 0x2a);
      const echoed = caller.rtp.since(answered).filter(isEcho).length;
      // Anything else after the answer (300 ms for packets already in flight) would be the prompt still playing.
      const prompt = caller.rtp.since(answered + 300).filter((p) => !isEcho(p)).length;
      process.stdout.write(
        `[queue-announcement] after the answer: ${echoed} of 50 packets echoed by the agent's phone, ${prompt} prompt packets\n`,
      );
      expect(echoed).toBeGreaterThanOrEqual(45);
      expect(prompt).toBeLessThan(5);

      caller.send(inDialog('BYE', 2));
      await caller.reply(/^SIP\/2\.0 200 /, 'BYE');
      expect((await phone).code).toBe(0);
    } finally {
      agent?.close();
      caller.close();
      phone.kill();
    }
  }, 90_000);

  it('speaks the caller’s place in their language (+86: zh) when the call is parked again after the agent declined', async () => {
    // agent2's phone declines every call (486).
    const { running: phone } = await registeredPhone(s, edge.sipPort, 'agent2', 'phone-busy.xml', 60_000);
    const agent = await openAgentSocket(s, await s.login('agent2'));
    // agent2 (vip) is online: the call rings their phone at once, which declines it (486).
    const caller = await openCaller(edge.sipPort, 'vip', '+8613911112222');
    const voice = s.services.voice;
    const route = voice.route;
    caller.invite();
    try {
      const queued = await caller.reply(/^SIP\/2\.0 182 /, 'INVITE', 20_000);
      expect((await phone).code).toBe(0);
      // The 182 of the re-parked call: position 1 and rtpengine's SDP (the announcement as early media).
      expect(queued.text).toMatch(/^X-Huiliu-Queue-Position: 1$/m);
      expect(queued.text.split('\r\n\r\n')[1] ?? '').toMatch(/^a=sendonly$/m);
      const sessions = (await s.services.store.listSessions({ status: ['queued'] })).filter((x) => x.channel === 'SP');
      expect(sessions).toHaveLength(1);
      const history = await s.services.store.listMessages(sessions[0]!.conversationId);
      expect(history.map((m) => (m.kind === 'event' ? m.body.name : m.kind))).toContain('call.missed');

      await new Promise((r) => setTimeout(r, 4000));
      const heard = caller.rtp.since(queued.at);
      process.stdout.write(`[queue-announcement] re-parked: ${heard.length} RTP packets in 4 s\n`);
      expect(heard.length).toBeGreaterThan(150);
      const pcm = decodeG711(Buffer.concat(heard.map((p) => p.payload)), 'PCMU');
      // What plays is the Mandarin position prompt ("您现在排在第1位。…", espeak-ng through the Tts), not the general one.
      const spoken = join(edge.runDir, 'positions', 'queue-zh-1.wav');
      expect(existsSync(spoken)).toBe(true);
      const heardEnvelope = envelope(pcm, 3);
      const withPosition = likeness(heardEnvelope, envelope(decodeWav(readFileSync(spoken)).samples, 3));
      const general = likeness(heardEnvelope, envelope(decodeWav(readFileSync(join(edge.runDir, 'queue-zh.wav'))).samples, 3));
      process.stdout.write(
        `[queue-announcement] loudness correlation: position prompt ${withPosition.toFixed(2)}, general ${general.toFixed(2)}\n`,
      );
      expect(withPosition).toBeGreaterThan(0.7);
      expect(withPosition).toBeGreaterThan(general + 0.1);

      // The caller hangs up while the edge is asking for their place again (the race a CI run hit): the
      // re-parked call is a second transaction (the failure route's hop to this proxy, same Call-ID), so
      // the caller's CANCEL is reported and closes the session while that transaction's retry is still
      // at the server. Its answer ("Call Ended") must not reach the caller as 480: a cancelled INVITE
      // ends 487 (RFC 3261 §9.2). The retry is held here until the session is closed.
      let held!: () => void;
      const retryHeld = new Promise<void>((resolve) => (held = resolve));
      let release!: () => void;
      const released = new Promise<void>((resolve) => (release = resolve));
      voice.route = async (request) => {
        if (request.event === 'retry' && request.sessionId === sessions[0]!.id) {
          held();
          await released;
        }
        return route.call(voice, request);
      };
      await retryHeld;
      caller.send([...caller.headers('CANCEL'), 'Content-Length: 0', '', ''].join('\r\n'));
      await caller.reply(/^SIP\/2\.0 200 /, 'CANCEL');
      // Well within the edge's 4 s HTTP time-out (http_client connection_timeout).
      await until(async () => (await s.services.store.getSession(sessions[0]!.id))?.status === 'closed', 3000);
      release();
      const terminated = await caller.reply(/^SIP\/2\.0 (487|480) /, 'INVITE');
      expect(terminated.text.split('\r\n')[0]).toBe('SIP/2.0 487 Request Terminated');
      const toLine = terminated.text.split('\r\n').find((l) => /^To:/i.test(l))!;
      caller.send([...caller.headers('ACK').map((l) => (/^To:/i.test(l) ? toLine : l)), 'Content-Length: 0', '', ''].join('\r\n'));
    } finally {
      voice.route = route;
      agent.close();
      caller.close();
      phone.kill();
    }
  }, 90_000);

  it('every call event Kamailio posted during these calls was taken by the server (no 4xx but 404)', () => {
    expect(refusedPosts(edge)).toEqual([]);
  });
});
