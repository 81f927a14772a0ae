import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VoiceCredentials } from '../../common/api/voice';
import { voiceEdgeApiPath } from '../src/voice/edge-api';
import { assertVoiceBinaries, type RunningEdge } from '../src/voice/edge-process';
import { loadVoiceSecrets } from '../src/voice/secrets';
import { startTestServer, type TestServer } from './support/harness';
import { expectRoutedCallResolved, onlineVoiceAgent, startTestEdge } from './support/sip';

/**
 * An edge that reaches the server over HTTPS only, as one on another host does (docs/voice.md "An edge
 * on another host"): the server offers no loopback hop (`voice.edgeHttp: false`), so the edge's
 * supervising process puts its HTTPS forwarder in front of Kamailio — Kamailio posts plain HTTP on
 * loopback, the forwarder posts on over TLS 1.3 — and a sipp call is routed to the agent's phone and its
 * SP session closes as over the hop.
 */
describe('voice edge reaching the server over HTTPS through its forwarder', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'huiliu-edge-https-'));
  let s: TestServer;
  let edge: RunningEdge;
  let agent: Socket;
  let creds: VoiceCredentials;

  beforeAll(async () => {
    assertVoiceBinaries();
    const config = join(dataDir, 'no-hop.json');
    writeFileSync(config, JSON.stringify({ voice: { edgeHttp: false } }));
    s = await startTestServer({ HUILIU_CONFIG: config }, { dataDir });
    edge = await startTestEdge(s);
    ({ socket: agent, creds } = await onlineVoiceAgent(s));
  }, 60_000);

  afterAll(async () => {
    agent?.close();
    await edge?.stop();
    await s?.cleanup();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('points Kamailio at the forwarder on loopback, never at the HTTPS URL', () => {
    expect(existsSync(voiceEdgeApiPath(s.dataDir))).toBe(false);
    expect(edge.forwardsTo).toBe(s.url);
    expect(edge.apiUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const cfg = readFileSync(edge.configPath, 'utf8');
    // The rendered header's define (the shipped config's own default further down is under #!ifndef).
    const rendered = `#!define HUILIU_HTTPCON "huiliu=>http://kamailio:${loadVoiceSecrets(s.dataDir).routeToken}@${new URL(edge.apiUrl).host}/api/v1/voice"`;
    expect(cfg.indexOf('#!define HUILIU_HTTPCON')).toBe(cfg.indexOf(rendered));
    expect(cfg.indexOf(rendered)).toBeGreaterThanOrEqual(0);
  });

  it('routes a call through the forwarder to the agent’s phone; its SP session closes resolved', async () => {
    await expectRoutedCallResolved(s, edge, creds);
    // The route post and the call's events all went through the forwarder; none failed.
    const counts = edge.forwarded()!;
    expect(counts.forwarded).toBeGreaterThanOrEqual(3);
    expect(counts.failed).toBe(0);
  }, 90_000);
});
