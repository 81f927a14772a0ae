import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VoiceCredentials } from '../../common/api/voice';
import { callKey } from '../src/voice/caller';
import { assertVoiceBinaries, type RunningEdge } from '../src/voice/edge-process';
import { startTestServer, type TestServer } from './support/harness';
import { onlineVoiceAgent, PLAIN_RTP_SDP, refusedPosts, registeredSippPhone, runSipp, SCENARIOS, startTestEdge } from './support/sip';
import { eventually } from './support/until';

/**
 * What Kamailio posts is JSON whatever the SIP text holds (deploy/kamailio/kamailio.cfg, docs/voice.md
 * "Kamailio → server over loopback"). A Call-ID may hold `'`, `"` and `\` (RFC 3261 §25.1 `word`), and so
 * may a From user part (`'` is `unreserved`). `{s.escape.common}` writes `'` as `\'`, which is not JSON:
 * such a call's route question was answered `400 INVALID_JSON` and the caller got `503 Routing
 * Unavailable` (review5). A sipp trunk call whose Call-ID holds all three is routed to agent1's sipp
 * phone, and its hang-up closes its SP session `resolved` as any call's.
 */
describe('voice edge: SIP text with quotes and backslashes is posted as valid JSON', () => {
  let s: TestServer;
  let edge: RunningEdge;
  let agent: Socket;
  let creds: VoiceCredentials;

  beforeAll(async () => {
    assertVoiceBinaries();
    s = await startTestServer();
    edge = await startTestEdge(s);
    ({ socket: agent, creds } = await onlineVoiceAgent(s));
  }, 60_000);

  afterAll(async () => {
    agent?.close();
    await edge?.stop();
    await s?.cleanup();
  });

  it('routes a call whose Call-ID holds \' " and \\ to the agent; its hang-up closes the session resolved', async () => {
    const { phone } = await registeredSippPhone(edge.sipPort, 'agent1', creds);
    // sipp's [call_id] from -cid_str (%u: the call number).
    const callId = `o'brien-"x"-a\\b-1@huiliu.test`;
    const caller = await runSipp(
      [
        `127.0.0.1:${edge.sipPort}`,
        ...['-sf', join(SCENARIOS, 'caller.xml'), '-s', 'support', '-m', '1', '-d', '300', '-p', '0'],
        ...['-cid_str', `o'brien-"x"-a\\b-%u@huiliu.test`, '-recv_timeout', '20000'],
      ],
      30_000,
    );
    expect(caller.code, caller.out).toBe(0);
    expect((await phone).code).toBe(0);
    const customer = await eventually(() => s.services.store.findCustomerByIdentity('SP', 'tel:+86138001'));
    const session = await eventually(async () => {
      const found = await s.services.store.latestSession(customer.id, 'SP');
      return found?.status === 'closed' ? found : null;
    });
    expect(session.wrapUpCode).toBe('resolved');
    const messages = await s.services.store.listMessages(session.conversationId);
    // The call's first message is keyed by the Call-ID as sent, quotes and backslash included.
    expect(messages.map((m) => m.clientMessageId)).toContain(`call:${callKey(callId)}`);
    expect(messages.flatMap((m) => (m.kind === 'event' ? [m.body.name] : []))).toEqual(
      expect.arrayContaining(['call.incoming', 'call.answered', 'call.ended']),
    );
    expect(refusedPosts(edge)).toEqual([]);
  });
  it('routes a call whose Referred-By holds control characters and a NUL (quoted-pairs, RFC 3261 §25.1); a Call-ID with a tab, a NUL and a backslash before a 0 is keyed as sent; its CANCEL abandons it', async () => {
    // A display name's quoted-pair may carry any byte but CR/LF (%x00-09 / %x0B-0C / %x0E-7F); HTAB is LWS.
    // Such bytes went into the route question raw (a raw control character is not JSON; `{s.escape.common}`
    // writes NUL as `\0`, not JSON either): 400 → the caller got 503 Routing Unavailable.
    const socket = createSocket('udp4');
    const got: string[] = [];
    socket.on('message', (m) => got.push(m.toString('latin1')));
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
    const port = socket.address().port;
    const number = '+8613800000777';
    // Not `word` characters (RFC 3261 §25.1) but taken by Kamailio as they come: a tab, a backslash before
    // a `0`, two NULs in a row, a backslash before a NUL. The server keys the call by the Call-ID it is told: tab → space, the rest as sent.
    const callId = 'ctl-1\tx\\0-\x00\x00-\\\x00-y@huiliu.test';
    const seenAs = 'ctl-1 x\\0-\u0000\u0000-\\\u0000-y@huiliu.test';
    const head = (method: string, cseq: string) => [
      `${method} sip:support@127.0.0.1:${edge.sipPort} SIP/2.0`,
      `Via: SIP/2.0/UDP 127.0.0.1:${port};branch=z9hG4bK-ctl-1;rport`,
      'Max-Forwards: 70',
      `From: "Caller" <sip:${number}@127.0.0.1:${port}>;tag=ctl-1`,
      `To: <sip:support@127.0.0.1:${edge.sipPort}>`,
      `Call-ID: ${callId}`,
      `CSeq: ${cseq}`,
    ];
    const sdp = PLAIN_RTP_SDP;
    const invite = [
      ...head('INVITE', '1 INVITE'),
      `Contact: <sip:caller@127.0.0.1:${port}>`,
      // HTAB as LWS, and quoted-pairs of BEL, NUL, DEL, a tab, a quote, and a backslash before a `0`.
      'Referred-By: "Tab\\\tBEL\\\x07 NUL\\\x00 DEL\\\x7f q\' dq\\" bs\\\\0"\t<sip:agent9@huiliu.test>',
      'Content-Type: application/sdp',
      `Content-Length: ${Buffer.byteLength(sdp, 'latin1')}`,
      '',
      sdp,
    ].join('\r\n');
    const send = (text: string) => socket.send(Buffer.from(text, 'latin1'), edge.sipPort, '127.0.0.1');
    try {
      send(invite);
      // The route question's answer: 182 Queued / 180 Ringing, or 503 Routing Unavailable when it was refused.
      await eventually(() => got.some((m) => /^SIP\/2\.0 (18\d|5\d\d)/.test(m)) || null, 10_000);
      const log = () => readFileSync(join(edge.runDir, 'kamailio.log'), 'utf8');
      expect(
        got.filter((m) => m.startsWith('SIP/2.0 5')).map((m) => m.split('\r\n')[0]),
        log(),
      ).toEqual([]);
      const customer = await eventually(() => s.services.store.findCustomerByIdentity('SP', `tel:${number}`));
      const session = await eventually(() => s.services.store.latestSession(customer.id, 'SP'));
      expect(session.status).not.toBe('closed');
      send([...head('CANCEL', '1 CANCEL'), 'Content-Length: 0', '', ''].join('\r\n'));
      const messages = await s.services.store.listMessages(session.conversationId);
      expect(messages.map((m) => m.clientMessageId)).toContain(`call:${callKey(seenAs)}`);
      await eventually(async () => ((await s.services.store.getSession(session.id))?.status === 'closed' ? true : null));
    } finally {
      socket.close();
    }
    expect(got.some((m) => m.startsWith('SIP/2.0 503'))).toBe(false);
    expect(readFileSync(join(edge.runDir, 'kamailio.log'), 'utf8')).not.toMatch(/voice route: server answered/);
    expect(refusedPosts(edge)).toEqual([]);
  });
});
