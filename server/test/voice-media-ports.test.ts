import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  assertVoiceBinaries,
  DEFAULT_MEDIA_PORTS,
  defaultMediaPorts,
  freeSipPort,
  startVoiceEdge,
  type RunningEdge,
} from '../src/voice/edge-process';
import { openAgentSocket } from './support/agent-client';
import { startTestServer, type TestServer } from './support/harness';
import { callsTableDump, edgeTlsSetting, PLAIN_RTP_SDP, registeredPhone, runSipp, SCENARIOS, udpExchange } from './support/sip';
import { eventually, until } from './support/until';

/** One INVITE with plain RTP/AVP SDP from `number` to the `vip` group (agent2's), as a trunk sends it. */
function invite(sipPort: number, localPort: number, number: string, callId: string): string {
  const sdp = PLAIN_RTP_SDP;
  return [
    `INVITE sip:vip@127.0.0.1:${sipPort} SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:${localPort};branch=z9hG4bK${callId.replace(/\W/g, '')};rport`,
    `From: "Caller" <sip:${number}@127.0.0.1:${localPort}>;tag=t${callId.replace(/\W/g, '')}`,
    `To: <sip:vip@127.0.0.1:${sipPort}>`,
    `Call-ID: ${callId}`,
    'CSeq: 1 INVITE',
    `Contact: <sip:caller@127.0.0.1:${localPort}>`,
    'Max-Forwards: 70',
    'Content-Type: application/sdp',
    `Content-Length: ${Buffer.byteLength(sdp)}`,
    '',
    sdp,
  ].join('\r\n');
}

/**
 * rtpengine out of media ports (docs/voice.md "Media ports"): an edge whose rtpengine has 4 ports (one
 * call) takes a first call to agent1 with its media anchored; a second caller, while it is up, is
 * answered `503 Media Unavailable` with Retry-After — not rung through to agent2 without media — and
 * its SP session is closed on the server (the edge posts `ended`), not left offered or active. The same
 * when rtpengine is gone (killed; the supervisor is off for this edge so it stays down).
 */
describe('the voice edge out of media ports', () => {
  let s: TestServer;
  let edge: RunningEdge;
  const sockets: Socket[] = [];

  beforeAll(async () => {
    assertVoiceBinaries();
    s = await startTestServer();
    edge = await startVoiceEdge(
      {
        dataDir: s.dataDir,
        serverUrl: s.url,
        ringMs: 5000,
        queuePollSeconds: 1,
        mediaPorts: defaultMediaPorts(4),
        ...(await edgeTlsSetting(s.dataDir, s.url)),
      },
      { supervisor: { enabled: false } },
    );
    for (const user of ['agent1', 'agent2']) {
      sockets.push(await openAgentSocket(s, await s.login(user)));
      const id = s.services.auth.listStaff().find((u) => u.username === user)!.id;
      await until(() => s.services.pool.get(id) !== undefined);
    }
  }, 60_000);

  afterAll(async () => {
    for (const socket of sockets) socket.close();
    await edge?.stop();
    await s?.cleanup();
  });

  const kamailioLog = () => readFileSync(join(edge.runDir, 'kamailio.log'), 'utf8').slice(-4000);

  /**
   * Sends one INVITE from `number` to `vip` (agent2, registered and free) and expects it refused for want
   * of media: `503 Media Unavailable` with `Retry-After: 5`, never ringing or answered, and its SP session
   * closed on the server with no agent and no `call.answered` (the edge posted `ended`).
   */
  async function expectRefused(number: string, callId: string, ms = 6000): Promise<void> {
    // (The Via's port is a placeholder: `rport` sends the answers to the socket the INVITE came from.)
    const got = await udpExchange(edge.sipPort, invite(edge.sipPort, await freeSipPort(), number, callId), ms);
    const finals = got.filter((m) => /^SIP\/2\.0 [2-6]\d\d/.test(m));
    expect(finals.length, `${got.join('\n---\n')}\n${kamailioLog()}`).toBeGreaterThan(0);
    expect(finals[0]!.split('\r\n')[0]).toBe('SIP/2.0 503 Media Unavailable');
    expect(finals[0]).toMatch(/^Retry-After: 5\r$/m);
    expect(got.some((m) => /^SIP\/2\.0 (180|183|200)/.test(m))).toBe(false);
    const customer = await eventually(() => s.services.store.findCustomerByIdentity('SP', `tel:${number}`), 10_000);
    const closed = await eventually(async () => {
      const found = await s.services.store.latestSession(customer.id, 'SP');
      return found?.status === 'closed' ? found : null;
    }, 10_000);
    expect(closed.assignedAgentId).toBeNull();
    const names = (await s.services.store.listMessages(closed.conversationId)).flatMap((m) => (m.kind === 'event' ? [m.body.name] : []));
    expect(names).toContain('call.ended');
    expect(names).not.toContain('call.answered');
    // No agent has the call: the edge's `calls` table (route[ASK] put it there before the relay) forgets it,
    // not after its 12 h (no failure route runs for a reply sent before any branch went out).
    expect(callsTableDump(edge)).not.toContain(callId);
  }

  it('sizes the default media range for the edge and randomises its even base', () => {
    const conf = readFileSync(join(edge.runDir, 'rtpengine.conf'), 'utf8');
    expect(conf).toMatch(/^delete-delay = 5$/m);
    const seen = new Set<number>();
    for (let i = 0; i < 50; i++) {
      const [min, max] = defaultMediaPorts();
      expect(max - min + 1).toBe(DEFAULT_MEDIA_PORTS);
      expect(min % 2).toBe(0);
      expect(min).toBeGreaterThanOrEqual(20_000);
      expect(max).toBeLessThanOrEqual(59_999);
      seen.add(min);
    }
    expect(seen.size).toBeGreaterThan(40);
    expect(defaultMediaPorts(4, () => 0.999999)).toEqual([59_996, 59_999]);
    expect(() => defaultMediaPorts(3)).toThrow(/even/);
  });

  it('answers 503 with Retry-After when rtpengine cannot anchor a call, and closes its session on the server', async () => {
    const phone1 = await registeredPhone(s, edge.sipPort, 'agent1');
    const phone2 = await registeredPhone(s, edge.sipPort, 'agent2');
    // The first call takes the range's 4 ports (2 legs × RTP/RTCP) for its 20 s.
    const first = runSipp(
      [`127.0.0.1:${edge.sipPort}`, ...['-sf', join(SCENARIOS, 'caller.xml'), '-s', 'support', '-m', '1', '-d', '20000', '-p', '0']],
      60_000,
    );
    try {
      const customer1 = await eventually(() => s.services.store.findCustomerByIdentity('SP', 'tel:+86138001'), 20_000);
      await eventually(async () => {
        const found = await s.services.store.latestSession(customer1.id, 'SP');
        return found?.status === 'active' ? found : null;
      }, 20_000);

      // The second call (to vip), while the first is up: agent2 is free, rtpengine has no ports.
      await expectRefused('+8613800777', 'no-ports-call@test');

      // Why: rtpengine ran out of ports, and Kamailio said so instead of ringing agent2 without media.
      const rtpLog = readFileSync(join(edge.runDir, 'rtpengine.log'), 'utf8');
      expect(rtpLog).toMatch(/Ran out of ports/);
      expect(kamailioLog()).toMatch(/rtpengine could not anchor the call's media/);

      // The first call goes on and ends normally.
      const firstRun = await first;
      expect(firstRun.code, firstRun.out).toBe(0);
      expect((await phone1.running).code).toBe(0);
    } finally {
      first.kill('SIGKILL');
      phone1.running.kill('SIGKILL');
      // agent2's phone never rang (no INVITE reached it): stopped here.
      phone2.running.kill('SIGKILL');
    }
  }, 120_000);

  it('answers 503 the same way when rtpengine does not answer at all', async () => {
    // The supervisor is off for this edge: rtpengine stays down.
    process.kill(Number(readFileSync(join(edge.runDir, 'rtpengine.pid'), 'utf8').trim()), 'SIGKILL');
    const phone2 = await registeredPhone(s, edge.sipPort, 'agent2');
    try {
      // Kamailio's rtpengine module gives up after its time-outs (1 s × 5 tries): the window allows for them.
      await expectRefused('+8613800888', 'no-rtpengine-call@test', 15_000);
      expect(kamailioLog()).toMatch(/no available proxies|proxy does not respond/);
    } finally {
      phone2.running.kill('SIGKILL');
    }
  }, 60_000);
});
