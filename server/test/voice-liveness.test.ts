import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VoiceCredentials } from '../../common/api/voice';
import { assertVoiceBinaries, startVoiceEdge, type RunningEdge } from '../src/voice/edge-process';
import { loadVoiceSecrets } from '../src/voice/secrets';
import { writeConfigFile } from './support/config-file';
import { startTestServer, type TestServer } from './support/harness';
import { freeMediaPort, edgeTlsSetting, onlineVoiceAgent, registeredSippPhone, runSipp, SCENARIOS } from './support/sip';
import { eventually } from './support/until';

/** rtpengine's `timeout` for this edge (s): a call without media that long is forgotten. */
const MEDIA_TIMEOUT_S = 4;
/** The server's liveness check period (s, config `voice.livenessSeconds`). */
const LIVENESS_S = 1;

/**
 * Liveness (docs/voice.md "Liveness") with the real edge: a sipp caller streams a tone (RTP PCMU, looped)
 * through Kamailio + rtpengine to agent1's sipp phone. While it streams the call stays up past rtpengine's
 * `timeout`; then the caller is SIGKILLed — no BYE, no CANCEL, its media just stops — and the server,
 * which never hears an `ended`, closes the SP session once rtpengine forgot the call (`call.ended` with
 * `lost: "no-media"`), and agent1 takes the next call (voice capacity free again).
 */
describe('a call whose caller vanishes without BYE', () => {
  let s: TestServer;
  let edge: RunningEdge;
  let agent: Socket;
  let creds: VoiceCredentials;
  const work = mkdtempSync(join(tmpdir(), 'huiliu-liveness-'));

  beforeAll(async () => {
    assertVoiceBinaries();
    s = await startTestServer({ HUILIU_CONFIG: writeConfigFile({ voice: { livenessSeconds: LIVENESS_S } }) });
    edge = await startVoiceEdge({
      dataDir: s.dataDir,
      serverUrl: s.url,
      ringMs: 5000,
      queuePollSeconds: 1,
      mediaTimeoutSeconds: MEDIA_TIMEOUT_S,
      ...(await edgeTlsSetting(s.dataDir, s.url)),
    });
    // No after-call work: agent1 is free for the next call as soon as the lost one ends.
    const admin = await s.login('admin');
    const current = (
      await s.app.inject({ method: 'GET', url: '/api/v1/routing/config', headers: { authorization: `Bearer ${admin}` } })
    ).json<{ config: Record<string, unknown> }>().config;
    const { version: _v, ...draft } = current;
    const put = await s.app.inject({
      method: 'PUT',
      url: '/api/v1/routing/config',
      headers: { authorization: `Bearer ${admin}` },
      payload: { config: { ...draft, afterCallWorkSeconds: { chat: 0, voice: 0 } }, comment: 'liveness test' },
    });
    expect(put.statusCode, put.body).toBe(201);
    ({ socket: agent, creds } = await onlineVoiceAgent(s));
  }, 60_000);

  afterAll(async () => {
    agent?.close();
    await edge?.stop();
    await s?.cleanup();
    rmSync(work, { recursive: true, force: true });
  });

  it('ends the call on the server within the media time-out and frees the agent', async () => {
    // 2 s of a 440 Hz tone, raw μ-law at 8 kHz, streamed in a loop (rtp_stream loop count -1).
    const tone = join(work, 'tone.ul');
    execFileSync('sox', ['-n', '-r', '8000', '-c', '1', '-t', 'ul', tone, 'synth', '2', 'sine', '440']);
    const scenario = join(work, 'caller-tone.xml');
    writeFileSync(scenario, readFileSync(join(SCENARIOS, 'caller-speech.xml'), 'utf8').replaceAll('AUDIO_FILE,1,0', `${tone},-1,0`));

    const { phone } = await registeredSippPhone(edge.sipPort, 'agent1', creds, { timeoutMs: 90_000 });
    const caller = runSipp(
      [
        `127.0.0.1:${edge.sipPort}`,
        ...['-sf', scenario, '-s', 'support', '-m', '1', '-d', '600000', '-p', '0'],
        ...['-mp', String(await freeMediaPort()), '-recv_timeout', '20000'],
      ],
      90_000,
    );
    try {
      const customer = await eventually(() => s.services.store.findCustomerByIdentity('SP', 'tel:+86138001'), 20_000);
      const active = await eventually(async () => {
        const found = await s.services.store.latestSession(customer.id, 'SP');
        return found?.status === 'active' ? found : null;
      }, 20_000);

      // The caller is alive and streaming: past rtpengine's time-out and several checks, the call is still up.
      await new Promise((r) => setTimeout(r, (MEDIA_TIMEOUT_S + 3) * 1000));
      expect((await s.services.store.getSession(active.id))?.status).toBe('active');

      // The caller vanishes: no BYE, its RTP stops.
      caller.kill('SIGKILL');
      const killedAt = Date.now();
      const closed = await eventually(async () => {
        const found = await s.services.store.getSession(active.id);
        return found?.status === 'closed' ? found : null;
      }, 30_000);
      const tookMs = Date.now() - killedAt;
      // rtpengine's time-out, its once-a-second timer, one liveness period, and slack for a loaded machine.
      expect(tookMs).toBeLessThan((MEDIA_TIMEOUT_S + 2 + LIVENESS_S + 5) * 1000);
      expect(closed.wrapUpCode).toBe('resolved');
      const ended = (await s.services.store.listMessages(closed.conversationId)).flatMap((m) =>
        m.kind === 'event' && m.body.name === 'call.ended' ? [m.body.data] : [],
      );
      expect(ended).toHaveLength(1);
      expect(ended[0]).toMatchObject({ lost: 'no-media' });
      expect(Number(ended[0]!['talkMs'])).toBeGreaterThanOrEqual((MEDIA_TIMEOUT_S + 3) * 1000);
      const fact = s.services.kpis.log.read(0, Date.now() + 1000).find((f) => f.sessionId === active.id && f.kind === 'call.ended');
      expect(fact?.data).toMatchObject({ lost: 'no-media' });

      // agent1's voice capacity is free: the next call is offered to them at once.
      const next = await s.app.inject({
        method: 'POST',
        url: '/api/v1/voice/route',
        headers: { 'x-huiliu-voice-token': loadVoiceSecrets(s.dataDir).routeToken },
        payload: { event: 'invite', callId: 'after-lost-call@test', from: 'sip:+8613800999@127.0.0.1', to: 'sip:support@127.0.0.1' },
      });
      expect(next.json()).toMatchObject({ action: 'agent', user: 'agent1' });
    } finally {
      caller.kill('SIGKILL');
      phone.kill('SIGKILL');
      await caller;
      await phone;
    }
  }, 120_000);
});
