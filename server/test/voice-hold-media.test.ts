import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alive, assertVoiceBinaries, type RunningEdge } from '../src/voice/edge-process';
import { openAgentSocket } from './support/agent-client';
import { startTestServer, type TestServer } from './support/harness';
import { refusedPosts, registeredPhone, runSipp, SCENARIOS, startTestEdge } from './support/sip';
import { eventually, until } from './support/until';

/**
 * A hold (re-INVITE with new SDP) on an answered call while rtpengine cannot anchor the new offer
 * (docs/voice.md "Media ports"): the proxy answers `500 Media Unavailable` with Retry-After, which fails
 * that transaction only (RFC 3261 §14.2, RFC 5057), and never relays the offer to the agent's phone —
 * before, the re-INVITE went through with an SDP whose media went nowhere. The call goes on and ends with
 * the caller's BYE, closed resolved on the server.
 */
describe('a re-INVITE whose media rtpengine cannot anchor', () => {
  let s: TestServer;
  let edge: RunningEdge;
  const sockets: Socket[] = [];

  beforeAll(async () => {
    assertVoiceBinaries();
    s = await startTestServer();
    // The supervisor is off for this edge: a killed rtpengine stays down.
    edge = await startTestEdge(s, {}, { supervisor: { enabled: false } });
    sockets.push(await openAgentSocket(s, await s.login('agent1')));
    const id = s.services.auth.listStaff().find((u) => u.username === 'agent1')!.id;
    await until(() => s.services.pool.get(id) !== undefined);
  }, 60_000);

  afterAll(async () => {
    for (const socket of sockets) socket.close();
    await edge?.stop();
    await s?.cleanup();
  });

  it('answers 500 with Retry-After, never relays the offer to the agent, and the call goes on to its hang-up', async () => {
    const phone = await registeredPhone(s, edge.sipPort, 'agent1');
    // The caller talks for 4 s, then puts the call on hold (a=sendonly), expects the 500, ACKs it and hangs up.
    const caller = runSipp(
      [`127.0.0.1:${edge.sipPort}`, ...['-sf', join(SCENARIOS, 'caller-hold.xml'), '-s', 'support', '-m', '1', '-d', '4000', '-p', '0']],
      90_000,
    );
    try {
      const customer = await eventually(() => s.services.store.findCustomerByIdentity('SP', 'tel:+86138001'), 20_000);
      const active = await eventually(async () => {
        const found = await s.services.store.latestSession(customer.id, 'SP');
        return found?.status === 'active' ? found : null;
      }, 20_000);
      // rtpengine goes away while the call is up (before the hold).
      const pid = Number(readFileSync(join(edge.runDir, 'rtpengine.pid'), 'utf8').trim());
      process.kill(pid, 'SIGKILL');
      await until(() => !alive(pid));

      const run = await caller;
      const kamailioLog = readFileSync(join(edge.runDir, 'kamailio.log'), 'utf8').slice(-4000);
      // The caller got its 500 for the hold and a 200 for its BYE (the scenario fails on anything else).
      expect(run.code, `${run.out}\n${kamailioLog}`).toBe(0);
      // The agent's phone never saw the re-INVITE (phone.xml takes an INVITE, an ACK and a BYE only).
      const answered = await phone.running;
      expect(answered.code, answered.out).toBe(0);
      expect(kamailioLog).toMatch(/rtpengine refused the media offer/);

      const closed = await eventually(async () => {
        const found = await s.services.store.getSession(active.id);
        return found?.status === 'closed' ? found : null;
      }, 20_000);
      expect(closed.wrapUpCode).toBe('resolved');
      expect(refusedPosts(edge)).toEqual([]);
    } finally {
      caller.kill('SIGKILL');
      phone.running.kill('SIGKILL');
    }
  }, 120_000);
});
