import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertVoiceBinaries, defaultMediaPorts, type RunningEdge } from '../src/voice/edge-process';
import { openAgentSocket } from './support/agent-client';
import type { TestServer } from './support/harness';
import {
  freeMediaPort,
  refusedPosts,
  registeredPhone,
  registeredSippPhone,
  runSipp,
  SCENARIOS,
  serverEdgeRig,
  voiceCredentials,
} from './support/sip';
import { eventually } from './support/until';

/**
 * Issue 18, a blind transfer whose new call fails before anyone answers it (docs/voice.md "A failed
 * blind transfer"), with the real edge. A sipp trunk caller dials `support`; agent1's sipp phone
 * (`voice/phone-refer-failed.xml`) answers and REFERs the caller to a colleague or a skill group; the
 * caller follows the REFER with a new INVITE carrying Referred-By (the server moves the session at that
 * INVITE, a cold transfer), and that INVITE then fails: cancelled by the caller while the colleague's
 * phone rings (failure_route[CALL_FAILED]) or while it waits in the group's queue (route[PARKED_CANCEL]),
 * or refused 503 for want of media (route[RELAY_ANCHORED]). The caller NOTIFYs agent1 of the failure and
 * stays on the first call with them. The session must be back with agent1 (active, its first group, no
 * offer to anyone), `call.transfer_failed {mode: "blind"}` in the history, the cold transfer cancelled,
 * and the caller's BYE of the first call then closes it `resolved` by agent1. Before this, the server
 * abandoned the session at the failure (closed `no-response`) and the old leg's BYE ended that leg only.
 */
describe('blind transfer through Kamailio: a failed new call leaves the customer with the first agent', () => {
  const rig = serverEdgeRig();
  const { sockets, start, stop } = rig;

  beforeAll(() => assertVoiceBinaries());
  afterAll(stop);

  /**
   * One blind transfer that fails through `edge`: agent1 (signed in) takes the call on their phone and
   * REFERs it to `target`; the caller's new call (`callerScenario`, edited by `edit`) fails with
   * `status`; agent2's phone runs `phone2` (null: not registered, not signed in). The caller hangs up the
   * first call 6 s after its failure NOTIFY. Checks the session was back with agent1 before that hang-up
   * and closes `resolved` by them.
   */
  async function blindTransferThatFails(
    server: TestServer,
    running: RunningEdge,
    o: { target: string; status: number; callerScenario: string; edit?: (xml: string) => string; phone2: string | null },
  ): Promise<void> {
    const staff = server.services.auth.listStaff();
    const agent1 = staff.find((u) => u.username === 'agent1')!;
    const work = mkdtempSync(join(tmpdir(), 'huiliu-blind-failed-'));
    rig.cleanups.push(() => rmSync(work, { recursive: true, force: true }));
    const scenario = join(work, 'caller.xml');
    const xml = readFileSync(join(SCENARIOS, o.callerScenario), 'utf8');
    writeFileSync(scenario, o.edit ? o.edit(xml) : xml);
    // agent1 alone is signed in: the call is theirs.
    sockets.push(await openAgentSocket(server, await server.login('agent1')));
    const { phone: first } = await registeredSippPhone(running.sipPort, 'agent1', await voiceCredentials(server, 'agent1'), {
      scenario: 'phone-refer-failed.xml',
      timeoutMs: 60_000,
      args: ['-key', 'target', o.target, '-key', 'referrer', 'agent1', '-key', 'domain', '127.0.0.1'],
    });
    const second = o.phone2 ? (await registeredPhone(server, running.sipPort, 'agent2', o.phone2, 60_000)).running : null;
    if (o.phone2) sockets.push(await openAgentSocket(server, await server.login('agent2')));
    const caller = runSipp(
      [
        `127.0.0.1:${running.sipPort}`,
        ...['-sf', scenario, '-s', 'support', '-m', '1', '-d', '6000', '-p', '0'],
        ...['-mp', String(await freeMediaPort()), '-cid_str', `blind-failed-${o.status}-%u@huiliu.test`, '-recv_timeout', '20000'],
      ],
      60_000,
    );
    try {
      const customer = await eventually(() => server.services.store.findCustomerByIdentity('SP', 'tel:+86138001'), 15_000);
      const session = await eventually(async () => {
        const found = await server.services.store.latestSession(customer.id, 'SP');
        return found?.status === 'active' && found.assignedAgentId === agent1.id ? found : null;
      }, 15_000);
      const events = async () =>
        (await server.services.store.listMessages(session.conversationId)).flatMap((m) =>
          m.kind === 'event' && m.sessionId === session.id ? [m.body] : [],
        );
      // The REFER, the new INVITE (the transfer), its failure: the undo's line.
      const failedLine = await eventually(
        async () => (await events()).find((e) => e.name === 'call.transfer_failed') ?? null,
        20_000,
      ).catch(async (error: unknown) => {
        caller.kill();
        first.kill();
        const out = `${(await caller).out}\nagent1's phone: ${(await first).out}`;
        const log = readFileSync(join(running.runDir, 'kamailio.log'), 'utf8').slice(-4000);
        throw new Error(
          `${String(error)}\nhistory: ${JSON.stringify((await events()).map((e) => e.name))}\ncaller: ${out}\nkamailio: ${log}`,
        );
      });
      expect(failedLine.data).toEqual({ from: 'agent1', to: o.target, sipStatus: o.status, mode: 'blind' });
      // While the customer is still on the first call (sipp pauses 6 s): with agent1 in the first group, offered to nobody.
      expect(await server.services.store.getSession(session.id)).toMatchObject({
        status: 'active',
        assignedAgentId: agent1.id,
        offeredAgentId: null,
        skillGroup: session.skillGroup,
      });
      expect((await server.services.store.transfers(session.id)).map((t) => t.status)).toEqual(['cancelled']);

      const run = await caller;
      expect(run.code, `${run.out}\n${readFileSync(join(running.runDir, 'kamailio.log'), 'utf8').slice(-3000)}`).toBe(0);
      const one = await first;
      expect(one.code, one.out).toBe(0);
      if (second && o.phone2 !== 'phone.xml') expect((await second).code).toBe(0);

      // The first call's BYE ends the session as any call: the old leg is the call again.
      const closed = await eventually(async () => {
        const found = await server.services.store.getSession(session.id);
        return found?.status === 'closed' ? found : null;
      }, 20_000);
      expect(closed).toMatchObject({ assignedAgentId: agent1.id, wrapUpCode: 'resolved' });
      expect(await server.services.store.countSessions({ customerId: customer.id, channel: 'SP' })).toBe(1);
      const names = (await events()).map((e) => e.name);
      expect(names.filter((n) => n.startsWith('call.') && n !== 'call.ringing')).toEqual([
        'call.incoming',
        'call.answered',
        'call.transferred',
        'call.transfer_failed',
        'call.ended',
      ]);
      expect(refusedPosts(running)).toEqual([]);
    } finally {
      caller.kill();
      first.kill();
      second?.kill();
      await second;
    }
  }

  it('undoes the transfer when the caller cancels the new call while the colleague’s phone rings (487), and the hang-up closes it', async () => {
    const run = await start();
    await blindTransferThatFails(run.s, run.edge, {
      target: 'agent2',
      status: 487,
      callerScenario: 'caller-refer-cancel.xml',
      phone2: 'phone-ring-cancel.xml',
    });
    await stop();
  }, 120_000);

  it('the same when the new call to a skill group waits in its queue and the caller cancels it there (route[PARKED_CANCEL])', async () => {
    const run = await start();
    // Nobody of vip is signed in: the new call is parked (182 Queued) until the caller gives up.
    await blindTransferThatFails(run.s, run.edge, {
      target: 'vip',
      status: 487,
      callerScenario: 'caller-refer-cancel.xml',
      edit: (xml) => xml.replace('<recv response="180" />', '<recv response="182" />'),
      phone2: null,
    });
    await stop();
  }, 120_000);

  it('the same when Kamailio refuses the new call 503 for want of media (route[RELAY_ANCHORED])', async () => {
    // rtpengine with 4 ports: the first call (customer ↔ agent1) takes them all, the new leg gets none.
    const run = await start({ mediaPorts: defaultMediaPorts(4) }, { supervisor: { enabled: false } });
    await blindTransferThatFails(run.s, run.edge, {
      target: 'agent2',
      status: 503,
      callerScenario: 'caller-refer-refused.xml',
      phone2: 'phone.xml',
    });
    expect(readFileSync(join(run.edge.runDir, 'rtpengine.log'), 'utf8')).toMatch(/Ran out of ports/);
    await stop();
  }, 120_000);
});
