import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { build } from 'esbuild';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningEdge } from '../src/voice/edge-process';
import { voiceEdgePath } from '../src/voice/edge';
import { callsTableDump, refusedPosts } from './support/sip';
import { demoToken, printSoftphoneLogs, startSoftphoneRig, trackPeerConnections } from './support/softphone';
import { httpsRequest } from './support/https';
import { REPO, freePort, type ServerProcess } from './support/server-process';

const SHOTS = join(REPO, 'test-output', 'e2e');

/**
 * A TCP proxy in front of Kamailio's secure WebSocket port that the test controls (as in desk-offline.e2e):
 * `cut()` destroys every live connection (the phones' WebSockets die, as on a network change or a
 * laptop waking up elsewhere) and refuses new ones until `restore()`.
 */
async function tcpProxy(targetPort: number): Promise<{ port: number; cut(): void; restore(): void; close(): Promise<void> }> {
  const live = new Set<Socket>();
  let down = false;
  const server: Server = createServer((client) => {
    if (down) return void client.destroy();
    const upstream = connect(targetPort, '127.0.0.1');
    live.add(client);
    live.add(upstream);
    const end = () => {
      client.destroy();
      upstream.destroy();
      live.delete(client);
      live.delete(upstream);
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    port,
    cut() {
      down = true;
      for (const s of live) s.destroy();
      live.clear();
    },
    restore() {
      down = false;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of live) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** RTP bytes the page's peer connections received per media kind (inbound-rtp), and the remote video's size. */
async function received(page: Page): Promise<{ audio: number; video: number; frames: number }> {
  return page.evaluate(`(async () => {
    let audio = 0, video = 0, frames = 0;
    for (const pc of window.__peers || []) {
      if (pc.connectionState === 'closed') continue;
      const stats = await pc.getStats();
      stats.forEach((s) => {
        if (s.type === 'inbound-rtp' && s.kind === 'audio') audio += s.bytesReceived || 0;
        if (s.type === 'inbound-rtp' && s.kind === 'video') { video += s.bytesReceived || 0; frames += s.framesDecoded || 0; }
      });
    }
    return { audio, video, frames };
  })()`);
}

/** The caller: a plain web page with JsSIP (bundled here), no registration, calling through Kamailio like a trunk. */
const CALLER_PAGE = (jssip: string) => `<!doctype html><html><head><meta charset="utf-8"><title>caller</title></head><body>
<script>${jssip}</script>
<script>
  window.calls = [];
  window.log = [];
  const pc = { iceServers: [] };
  function bind(s) {
    if (window.calls.some((c) => c.s === s)) return;
    const entry = { s, state: 'calling', referred: false, video: false };
    window.calls.push(entry);
    s.on('confirmed', () => { entry.state = 'confirmed'; });
    s.on('ended', () => { entry.state = 'ended'; });
    s.on('failed', (e) => { entry.state = 'failed:' + e.cause; });
    // The agent's REFER (with Replaces for an attended transfer): call where it says (RFC 3515, 3891).
    s.on('refer', (e) => { entry.referred = true; e.accept(() => {}, { mediaConstraints: { audio: true, video: true }, pcConfig: pc }); });
  }
  window.startCall = (ws, target, video) => new Promise((resolve, reject) => {
    const ua = new JsSIP.UA({ sockets: [new JsSIP.WebSocketInterface(ws)], uri: 'sip:+8613911112222@customer.test',
      display_name: 'Video Caller', register: false, session_timers: false });
    window.ua = ua;
    ua.on('newRTCSession', (e) => bind(e.session));
    ua.once('connected', () => { bind(ua.call(target, { mediaConstraints: { audio: true, video }, pcConfig: pc })); resolve(true); });
    ua.on('disconnected', (e) => window.log.push('disconnected ' + (e && e.code)));
    setTimeout(() => reject(new Error('no WebSocket to Kamailio: ' + window.log.join(', '))), 10000);
    ua.start();
  });
  window.callStates = () => window.calls.map((c) => ({ state: c.state, referred: c.referred }));
</script></body></html>`;

/**
 * Issue 18, the softphone's attended transfer, video and network recovery end to end: the real edge
 * (Kamailio + rtpengine), the real server, Chromium with fake camera and microphone. agent1 and agent2
 * sign in (their phones register through a TCP proxy in front of Kamailio's WebSocket); a JsSIP caller
 * page offers audio + video to `support`; agent1's dock rings, answers with video (both ends see the
 * other's video through rtpengine); agent1 consults agent2 (customer on hold, a second call), then
 * completes the transfer (REFER with Replaces): the customer's new call replaces the consult at agent2,
 * the SP session moves to agent2; agent2 hangs up and the session closes. Then the proxy cuts every
 * WebSocket and restores it: agent1's phone is registered again within 10 s.
 */
describe('softphone: video, attended transfer and re-registration (JsSIP caller ↔ Kamailio + rtpengine ↔ two agents)', () => {
  let server: ServerProcess;
  let edge: RunningEdge;
  let proxy: Awaited<ReturnType<typeof tcpProxy>>;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  let agent1: Page;
  let agent2: Page;
  let caller: Page;
  let ca: string;
  let leadToken = '';
  let callerSite: HttpServer | null = null;
  let sessionId = '';

  const newPage = async (label: string): Promise<Page> => {
    const ctx = await browser.newContext({
      viewport: { width: 1360, height: 900 },
      locale: 'en-US',
      permissions: ['microphone', 'camera'],
    });
    contexts.push(ctx);
    await trackPeerConnections(ctx);
    const page = await ctx.newPage();
    page.on('console', (m) => {
      if (m.type() === 'error') process.stdout.write(`[${label} ${m.type()}] ${m.text().slice(0, 400)}\n`);
    });
    return page;
  };

  const signIn = async (page: Page, username: string) => {
    await page.goto(`${server.url}/app/`);
    await page.getByLabel('Username').fill(username);
    await page.getByLabel('Password').fill('huiliu-demo');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByTestId('softphone-registration').getAttribute('data-state'), { timeout: 20_000 }).toBe('registered');
  };

  const setLanguage = async (page: Page, lang: 'en' | 'zh') => {
    await page.getByTestId('language-switch').selectOption(lang);
    await page.waitForFunction(`document.documentElement.lang.startsWith('${lang}')`);
  };

  const session = async (): Promise<{
    status: string;
    assignedAgentId: string | null;
    wrapUpCode: string | null;
    messages: { kind: string; body: { name?: string } }[];
  }> => {
    const res = await httpsRequest(`${server.url}/api/v1/sessions/${sessionId}`, { ca, headers: { authorization: `Bearer ${leadToken}` } });
    return JSON.parse(res.body) as never;
  };

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    ({ server, ca, edge, browser } = await startSoftphoneRig({ ringMs: 45_000, startTimeoutMs: 120_000, ws: true }));
    // The phones reach Kamailio's secure WebSocket (wss, what an https page takes) through the proxy
    // (TLS passes through it): the edge file names the proxy's port.
    expect(edge.wssPort).not.toBeNull();
    proxy = await tcpProxy(edge.wssPort!);
    const edgeFile = voiceEdgePath(server.dataDir);
    const written = JSON.parse(readFileSync(edgeFile, 'utf8')) as { uris: string[] };
    written.uris = written.uris.map((u) => u.replace(`:${edge.wssPort}`, `:${proxy.port}`));
    writeFileSync(edgeFile, JSON.stringify(written));
    agent1 = await newPage('agent1');
    agent2 = await newPage('agent2');
    caller = await newPage('caller');
    const bundle = await build({
      entryPoints: [join(REPO, 'node_modules', 'jssip', 'lib', 'JsSIP.js')],
      bundle: true,
      format: 'iife',
      globalName: 'JsSIP',
      platform: 'browser',
      write: false,
      logLevel: 'silent',
    });
    const html = CALLER_PAGE(bundle.outputFiles[0]!.text.replace(/<\/script/gi, '<\\/script'));
    // Served by the test on loopback: http://127.0.0.1 is a secure context (camera, microphone) in the local address space.
    callerSite = createHttpServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(html));
    const sitePort = await freePort();
    await new Promise<void>((resolve) => callerSite!.listen(sitePort, '127.0.0.1', resolve));
    await caller.goto(`http://127.0.0.1:${sitePort}/caller.html`);
    leadToken = await demoToken({ server, ca }, 'lead');
  }, 240_000);

  afterAll(async () => {
    printSoftphoneLogs(server, edge);
    await browser?.close();
    await proxy?.close();
    callerSite?.close();
    await edge?.stop();
    await server?.stop();
  });

  it('registers both agents’ phones (through the proxy)', async () => {
    await signIn(agent1, 'agent1');
    await signIn(agent2, 'agent2');
    expect(await agent1.getByTestId('softphone').textContent()).toContain('sip:agent1@');
  }, 120_000);

  it('answers a caller who offers video with the camera: both ends receive video through rtpengine', async () => {
    // The caller's page is plain http on loopback: Kamailio's ws port, straight.
    await caller.evaluate(`window.startCall('${edge.wsUri}', 'sip:support@127.0.0.1', true)`);
    const card = agent1.getByTestId('softphone-call');
    await expect.poll(async () => ((await card.count()) ? card.getAttribute('data-state') : null), { timeout: 20_000 }).toBe('ringing');
    sessionId = (await card.getAttribute('data-session')) ?? '';
    expect(sessionId).toMatch(/^SP\d{18}$/);
    await agent1.getByTestId('softphone-answer').click();
    await expect.poll(() => card.getAttribute('data-state'), { timeout: 15_000 }).toBe('active');
    await expect.poll(() => agent1.getByTestId('softphone-video').count()).toBe(1);
    // Video frames decoded on both ends: the agent sees the caller, the caller sees the agent.
    await expect.poll(async () => (await received(agent1)).frames, { timeout: 20_000 }).toBeGreaterThan(10);
    await expect.poll(async () => (await received(caller)).frames, { timeout: 20_000 }).toBeGreaterThan(10);
    expect((await received(agent1)).audio).toBeGreaterThan(500);
    await expect
      .poll(() => agent1.getByTestId('softphone-remote-video').evaluate((v) => (v as unknown as { videoWidth: number }).videoWidth), {
        timeout: 10_000,
      })
      .toBeGreaterThan(0);
    expect(
      await agent1.getByTestId('softphone-local-video').evaluate((v) => (v as unknown as { videoWidth: number }).videoWidth),
    ).toBeGreaterThan(0);
    expect(await session()).toMatchObject({ status: 'active' });
    await agent1.waitForTimeout(500);
    await agent1.screenshot({ path: join(SHOTS, 'softphone-video-en.png') });
    await setLanguage(agent1, 'zh');
    expect(await agent1.getByTestId('softphone-remote-video').getAttribute('aria-label')).toBe('来电方视频');
    await agent1.screenshot({ path: join(SHOTS, 'softphone-video-zh.png') });
    await setLanguage(agent1, 'en');
  }, 120_000);

  it('consults agent2 with the customer on hold, then completes the transfer (REFER with Replaces)', async () => {
    await agent1.getByTestId('softphone-transfer-to').fill('agent2');
    await agent1.getByTestId('softphone-consult').click();
    await expect.poll(() => agent1.getByTestId('softphone-hold').getAttribute('aria-pressed'), { timeout: 10_000 }).toBe('true');
    // agent2's phone rings with agent1's consult call (no SP session: a colleague, not a contact).
    const card2 = agent2.getByTestId('softphone-call');
    await expect.poll(async () => ((await card2.count()) ? card2.getAttribute('data-state') : null), { timeout: 15_000 }).toBe('ringing');
    expect(await card2.getAttribute('data-session')).toBe('');
    await agent2.getByTestId('softphone-answer').click();
    await expect.poll(() => card2.getAttribute('data-state'), { timeout: 15_000 }).toBe('active');
    const consult = agent1.getByTestId('softphone-consult-state');
    await expect.poll(() => consult.getAttribute('data-state'), { timeout: 15_000 }).toBe('active');
    // The two agents hear each other (the consult call's audio through rtpengine).
    await expect.poll(async () => (await received(agent2)).audio, { timeout: 10_000 }).toBeGreaterThan(500);
    await agent1.screenshot({ path: join(SHOTS, 'softphone-consult-en.png') });
    await setLanguage(agent1, 'zh');
    expect(await agent1.getByTestId('softphone-complete-transfer').textContent()).toBe('完成转接');
    await agent1.screenshot({ path: join(SHOTS, 'softphone-consult-zh.png') });
    await setLanguage(agent1, 'en');

    await agent1.getByTestId('softphone-complete-transfer').click();
    // The customer followed the REFER: a new call to agent2 that replaced the consult there.
    await expect
      .poll(async () => JSON.stringify(await caller.evaluate('window.callStates()')), { timeout: 60_000 })
      .toMatch(/"referred":true.*"state":"confirmed"/);
    await expect.poll(() => card2.getAttribute('data-session'), { timeout: 15_000 }).toBe(sessionId);
    await expect.poll(() => card2.getAttribute('data-state'), { timeout: 15_000 }).toBe('active');
    // agent1's leg ended after the transfer.
    await expect.poll(() => agent1.getByTestId('softphone-call').getAttribute('data-state'), { timeout: 15_000 }).toBe('ended');
    // Kamailio's `calls` table now maps the customer's new leg (the Replaces call) to the session, so its
    // BYE names the session even after a server restart; the old leg's entry left with its BYE.
    await expect.poll(() => callsTableDump(edge).split(sessionId).length - 1, { timeout: 10_000 }).toBe(1);
    expect(await agent1.getByTestId('softphone-transfer-state').getAttribute('data-state')).toBe('accepted');
    // The customer and agent2 talk (and see each other: the customer's new call offered video).
    const before = (await received(agent2)).audio;
    await expect.poll(async () => (await received(agent2)).audio, { timeout: 15_000 }).toBeGreaterThan(before + 500);
    // The SP session moved to agent2 (the transfer service's cold transfer, then agent2's answer accepted it).
    await expect.poll(async () => (await session()).status, { timeout: 10_000 }).toBe('active');
    const moved = await session();
    const events = moved.messages.flatMap((m) => (m.kind === 'event' && m.body.name ? [m.body.name] : []));
    expect(events).toEqual(expect.arrayContaining(['call.answered', 'call.transferred']));
    const agent2Login = await httpsRequest(`${server.url}/api/v1/auth/login`, {
      ca,
      method: 'POST',
      json: { username: 'agent2', password: 'huiliu-demo' },
    });
    expect(moved.assignedAgentId).toBe((JSON.parse(agent2Login.body) as { user: { id: string } }).user.id);
    await agent2.waitForTimeout(800);
    await agent2.screenshot({ path: join(SHOTS, 'softphone-transferred-en.png') });
  }, 240_000);

  it('agent2 hangs up: the transferred session closes resolved', async () => {
    await agent2.getByTestId('softphone-hangup').click();
    await expect.poll(async () => (await session()).status, { timeout: 15_000 }).toBe('closed');
    const closed = await session();
    expect(closed.wrapUpCode).toBe('resolved');
    const events = closed.messages.flatMap((m) => (m.kind === 'event' && m.body.name ? [m.body.name] : []));
    expect(events).toEqual(expect.arrayContaining(['call.incoming', 'call.answered', 'call.transferred', 'call.ended']));
    // Every BYE of the transfer (the consult, the replaced leg, this one) was taken: a leg the proxy's
    // `calls` table does not know once posted sessionId "0" (a $var given $null) and was refused (400).
    expect(refusedPosts(edge)).toEqual([]);
    // Its entry left with the new leg's BYE.
    expect(callsTableDump(edge)).not.toContain(sessionId);
  }, 60_000);

  it('re-registers within 10 s after every WebSocket to Kamailio was cut and the network came back', async () => {
    await agent1.getByTestId('softphone-dismiss').click();
    const registration = agent1.getByTestId('softphone-registration');
    expect(await registration.getAttribute('data-state')).toBe('registered');
    proxy.cut();
    await expect.poll(() => registration.getAttribute('data-state'), { timeout: 10_000 }).not.toBe('registered');
    // Down for 5 s (JsSIP's reconnect attempts fail meanwhile, its back-off grows), then back.
    await agent1.waitForTimeout(5_000);
    proxy.restore();
    const restored = Date.now();
    await expect.poll(() => registration.getAttribute('data-state'), { timeout: 10_000, interval: 100 }).toBe('registered');
    const ms = Date.now() - restored;
    process.stdout.write(`[softphone] registered again ${ms} ms after the network came back\n`);
    expect(ms).toBeLessThan(10_000);
  }, 60_000);
});
