import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertVoiceBinaries, defaultMediaPorts, type RunningEdge } from '../src/voice/edge-process';
import { loadVoiceSecrets } from '../src/voice/secrets';
import { openAgentSocket } from './support/agent-client';
import type { TestServer } from './support/harness';
import { refusedPosts, registeredPhone, runSipp, SCENARIOS, serverEdgeRig } from './support/sip';
import { eventually } from './support/until';

/**
 * Issue 18, an attended transfer whose Replaces INVITE fails (docs/voice.md "Attended transfer"), with the
 * real edge: a sipp trunk caller (`voice/caller-replaces-declined.xml`) dials `support` and agent1's sipp
 * phone answers. agent1 "consults" agent2: a consult call comes from a WebSocket phone (route[AGENT_CALL],
 * which sipp cannot reach), so its `consult` event is posted to the server as Kamailio posts it. The
 * caller then calls agent2 with `Replaces: <the consult's Call-ID>` (route[REPLACES_IN]: the server ties
 * the new leg to the session, which moves only when agent2's phone answers); agent2's phone declines it
 * (486, `voice/phone-busy.xml`), and failure_route[REPLACES_FAILED] tells the server (`transfer_failed`).
 * The customer is still on the call with agent1, and so must the session be: active with agent1, no offer
 * to agent2, no transfer recorded, `call.transfer_failed` in the history; and the caller's hang-up of that
 * first call then closes it `resolved` as any call. Before this, the server moved the session to agent2 at
 * the INVITE and never back (docs/voice.md).
 */
/**
 * One attended transfer that fails through `edge`: the caller talks to agent1, the consult is posted, the
 * caller's INVITE with Replaces to agent2 gets `status` (from agent2's phone running `phone2`, or from
 * Kamailio), and the caller hangs up the first call 6 s later. Checks the session stayed with agent1 and
 * closes `resolved` by them, with `call.transfer_failed {…, sipStatus: status}` in its history.
 */
async function attendedTransferThatFails(
  s: TestServer,
  edge: RunningEdge,
  status: number,
  phone2: string,
  sockets: Socket[],
): Promise<void> {
  const token = loadVoiceSecrets(s.dataDir).routeToken;
  const staff = s.services.auth.listStaff();
  const agent1 = staff.find((u) => u.username === 'agent1')!;
  const agent2 = staff.find((u) => u.username === 'agent2')!;
  // The scenario expects the caller's INVITE with Replaces to be answered `status`.
  const dir = mkdtempSync(join(tmpdir(), 'huiliu-attended-'));
  const scenario = join(dir, 'caller.xml');
  writeFileSync(
    scenario,
    readFileSync(join(SCENARIOS, 'caller-replaces-declined.xml'), 'utf8').replace(
      '<recv response="486" />',
      `<recv response="${status}" />`,
    ),
  );
  // agent1 alone is signed in: the call is theirs.
  sockets.push(await openAgentSocket(s, await s.login('agent1')));
  const { running: first } = await registeredPhone(s, edge.sipPort, 'agent1', 'phone.xml', 60_000);
  const { running: second } = await registeredPhone(s, edge.sipPort, 'agent2', phone2, 60_000);
  const consultCallId = `consult-${status}@ws.invalid`;
  const caller = runSipp(
    [
      `127.0.0.1:${edge.sipPort}`,
      ...['-sf', scenario, '-s', 'support', '-m', '1', '-d', '6000', '-p', '0'],
      ...['-key', 'target', 'agent2', '-key', 'consult', consultCallId, '-cid_str', `attended-${status}-%u@huiliu.test`],
      ...['-recv_timeout', '20000'],
    ],
    60_000,
  );
  try {
    const customer = await eventually(() => s.services.store.findCustomerByIdentity('SP', 'tel:+86139001'), 15_000);
    const answered = await eventually(async () => {
      const found = await s.services.store.latestSession(customer.id, 'SP');
      return found?.status === 'active' && found.assignedAgentId === agent1.id ? found : null;
    }, 15_000);
    // agent1's phone calls agent2: the consult, as Kamailio posts it (the caller's INVITE with Replaces
    // follows 6 s after the answer). The store shows the answer a moment before the server has taken it
    // in (the accept's writes come first): until then a consult finds no call (404), so it is posted again.
    await eventually(async () => {
      const consult = await s.app.inject({
        method: 'POST',
        url: '/api/v1/voice/events',
        payload: { event: 'consult', callId: consultCallId, sessionId: '', agent: 'agent1' },
        headers: { 'x-huiliu-voice-token': token },
      });
      if (consult.statusCode === 404) return null;
      expect(consult.statusCode, consult.body).toBe(200);
      return true;
    }, 3_000);
    // agent2 signs in (the transfer's target).
    sockets.push(await openAgentSocket(s, await s.login('agent2')));

    // The Replaces INVITE (6 s after the answer) fails, the edge reports it.
    const events = async () =>
      (await s.services.store.listMessages(answered.conversationId)).flatMap((m) =>
        m.kind === 'event' && m.sessionId === answered.id ? [m.body] : [],
      );
    const failedLine = await eventually(async () => (await events()).find((e) => e.name === 'call.transfer_failed') ?? null, 15_000);
    expect(failedLine.data).toEqual({ from: 'agent1', to: 'agent2', sipStatus: status });
    // While the customer is still on the first call (sipp pauses 6 s): with agent1, nothing offered to agent2.
    const back = await s.services.store.getSession(answered.id);
    expect(back).toMatchObject({ status: 'active', assignedAgentId: agent1.id, offeredAgentId: null });

    const run = await caller;
    expect(run.code, run.out).toBe(0);
    expect((await first).code).toBe(0);

    // The first call's BYE ends the session as any call (the old leg is the call, not a replaced one).
    const closed = await eventually(async () => {
      const found = await s.services.store.getSession(answered.id);
      return found?.status === 'closed' ? found : null;
    }, 20_000);
    expect(closed.assignedAgentId).toBe(agent1.id);
    expect(closed.wrapUpCode).toBe('resolved');
    expect(await s.services.store.countSessions({ customerId: customer.id, channel: 'SP' })).toBe(1);
    const names = (await events()).map((e) => e.name);
    expect(names.filter((n) => n.startsWith('call.') && n !== 'call.ringing')).toEqual([
      'call.incoming',
      'call.answered',
      'call.transferring',
      'call.transfer_failed',
      'call.ended',
    ]);
    // Nothing was transferred: no transfer record, no routing decision made for agent2.
    expect(await s.services.store.transfers(answered.id)).toEqual([]);
    const decisions = await s.services.store.decisions(answered.id);
    expect(decisions.map((d) => d.decision.offeredTo)).not.toContain(agent2.id);
    expect(refusedPosts(edge)).toEqual([]);
  } finally {
    caller.kill();
    first.kill();
    second.kill();
    await second;
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('attended transfer through Kamailio: a failed Replaces INVITE leaves the call with the first agent', () => {
  const rig = serverEdgeRig();
  const { sockets, start, stop } = rig;

  beforeAll(() => assertVoiceBinaries());
  afterAll(stop);

  it('keeps the session with the first agent when the colleague’s phone declines the customer’s Replaces INVITE (486), and the hang-up closes it', async () => {
    const run = await start();
    await attendedTransferThatFails(run.s, run.edge, 486, 'phone-busy.xml', sockets);
    await stop();
  }, 120_000);

  it('the same when Kamailio refuses the Replaces INVITE 503 for want of media (route[RELAY_ANCHORED])', async () => {
    // rtpengine with 4 ports: the first call (customer ↔ agent1) takes them all, the new leg gets none.
    const run = await start({ mediaPorts: defaultMediaPorts(4) }, { supervisor: { enabled: false } });
    await attendedTransferThatFails(run.s, run.edge, 503, 'phone.xml', sockets);
    expect(readFileSync(join(run.edge.runDir, 'rtpengine.log'), 'utf8')).toMatch(/Ran out of ports/);
    await stop();
  }, 120_000);
});
