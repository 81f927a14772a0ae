import { join } from 'node:path';
import type { Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VoiceCredentials } from '../../common/api/voice';
import { callKey } from '../src/voice/caller';
import { assertVoiceBinaries, type RunningEdge } from '../src/voice/edge-process';
import { startTestServer, type TestServer } from './support/harness';
import { onlineVoiceAgent, refusedPosts, registeredSippPhone, runSipp, SCENARIOS, startTestEdge } from './support/sip';
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
});
