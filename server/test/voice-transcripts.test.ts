import { execFileSync } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VoiceCredentials } from '../../common/api/voice';
import type { MessageView } from '../../common/api/sessions';
import { transcriptEmotionOf } from '../../common/message/transcript';
import { wordErrors } from '../src/ai/speech/wer';
import { assertVoiceBinaries, freeSipPort, type RunningEdge } from '../src/voice/edge-process';
import { createLogger } from '../src/logging/logger';
import { openAgentSocket } from './support/agent-client';
import { writeConfigFile } from './support/config-file';
import { startTestServer, type TestServer } from './support/harness';
import { freeMediaPort, runSipp, SCENARIOS, sippRegisterArgs, startTestEdge } from './support/sip';
import { eventually } from './support/until';

const CLIPS = '/work/shared/data/speech-asr-clips';

/**
 * Places a call that speaks the JFK clip: the clip as 8 kHz G.711 μ-law raw bytes in `work` (what
 * rtp_stream sends as PT 0), agent1's sipp phone registered at the edge with `creds` (it answers), then a
 * sipp caller that talks for 11 s and hangs up at 14 s. `recvMs`: the caller's receive time-out; `runMs`:
 * how long each sipp may run. Resolves once the caller is dialling; `dialledAt` is then (epoch ms).
 */
async function callWithJfkClip(
  edge: RunningEdge,
  work: string,
  creds: VoiceCredentials,
  { recvMs, runMs }: { recvMs: number; runMs: number },
): Promise<{ phone: ReturnType<typeof runSipp>; call: ReturnType<typeof runSipp>; dialledAt: number }> {
  const audio = join(work, 'jfk.ul');
  execFileSync('sox', [join(CLIPS, 'en', 'jfk_16k_mono.wav'), '-r', '8000', '-c', '1', '-t', 'ul', audio]);
  expect(readFileSync(audio).length).toBe(88_000); // 11 s × 8,000 bytes
  const scenario = join(work, 'caller-speech.xml');
  writeFileSync(scenario, readFileSync(join(SCENARIOS, 'caller-speech.xml'), 'utf8').replaceAll('AUDIO_FILE', audio));
  const phonePort = await freeSipPort();
  const phone = runSipp(['-sf', join(SCENARIOS, 'phone.xml'), '-p', String(phonePort), '-m', '1'], runMs);
  const registered = await runSipp(
    sippRegisterArgs(edge.sipPort, { user: 'agent1', contactPort: phonePort, username: creds.username, password: creds.password }),
    15_000,
  );
  expect(registered.code, registered.out).toBe(0);
  const mediaPort = await freeMediaPort();
  const dialledAt = Date.now();
  const call = runSipp(
    [
      `127.0.0.1:${edge.sipPort}`,
      '-sf',
      scenario,
      '-s',
      'support',
      '-m',
      '1',
      '-d',
      '14000',
      '-p',
      '0',
      '-mp',
      String(mediaPort),
      '-recv_timeout',
      String(recvMs),
    ],
    runMs,
  );
  return { phone, call, dialledAt };
}

/**
 * Issue 18, live transcripts with the real edge: a sipp caller speaks a real clip (JFK, public domain;
 * SOURCE.md) as RTP PCMU through Kamailio + rtpengine to an agent's sipp phone; rtpengine records the
 * call as pcap in its spool, the server's media tap reads the caller's leg while the call runs, cuts it
 * at pauses, transcribes it with the configured Asr (pocketsphinx, the default) and stores each
 * utterance as a transcript message of the SP session with its speech emotion.
 */
describe('live call transcripts through Kamailio + rtpengine', () => {
  let s: TestServer;
  let edge: RunningEdge;
  let agent: Socket;
  let creds: VoiceCredentials;
  let work: string;
  let logDir: string;
  const pushed: MessageView[] = [];

  beforeAll(async () => {
    assertVoiceBinaries();
    logDir = mkdtempSync(join(tmpdir(), 'huiliu-speech-log-'));
    s = await startTestServer({}, { logger: createLogger({ level: 'info', dir: logDir, destination: createWriteStream('/dev/null') }) });
    edge = await startTestEdge(s);
    agent = await openAgentSocket(s, await s.login('agent1'));
    agent.on('message:new', (m: MessageView) => void pushed.push(m));
    const res = await s.app.inject({
      method: 'GET',
      url: '/api/v1/voice/credentials',
      headers: { authorization: `Bearer ${await s.login('agent1')}` },
    });
    creds = res.json<VoiceCredentials>();
    work = mkdtempSync(join(tmpdir(), 'huiliu-speech-call-'));
  }, 60_000);

  afterAll(async () => {
    agent?.close();
    await edge?.stop();
    await s?.cleanup();
    if (work) rmSync(work, { recursive: true, force: true });
    if (logDir) rmSync(logDir, { recursive: true, force: true });
  });

  it('transcribes what the caller says into the SP session while the call runs, with its speech emotion', async () => {
    const { phone, call } = await callWithJfkClip(edge, work, creds, { recvMs: 30_000, runMs: 60_000 });

    // While the call is still up, the first transcript is already in the session (a live tap, not a
    // recording read after the hang-up).
    const customer = await eventually(() => s.services.store.findCustomerByIdentity('SP', 'tel:+86138001'), 15_000).catch(
      async (error: unknown) => {
        call.kill();
        throw new Error(`${String(error)}\n${(await call).out}\n${readFileSync(join(edge.runDir, 'kamailio.log'), 'utf8').slice(-3000)}`);
      },
    );
    const live = await eventually(async () => {
      const session = await s.services.store.latestSession(customer.id, 'SP');
      if (!session) return null;
      const messages = await s.services.store.listMessages(session.conversationId);
      const heard = messages.filter((m) => m.meta['transcript'] === true);
      return heard.length > 0 ? { session, heard } : null;
    }, 20_000).catch((error: unknown) => {
      const spool = join(edge.runDir, 'recordings');
      const list = (d: string) => (existsSync(join(spool, d)) ? readdirSync(join(spool, d)).join(', ') : '-');
      throw new Error(
        `${String(error)}\nspool pcaps: ${list('pcaps')} tmp: ${list('tmp')} metadata: ${list('metadata')}\n` +
          `server log:\n${readFileSync(join(logDir, 'huiliu.log'), 'utf8')
            .split('\n')
            .filter((l) => /voice|media|transcri|speech/.test(l))
            .slice(-15)
            .join('\n')}\n` +
          `rtpengine:\n${readFileSync(join(edge.runDir, 'rtpengine.log'), 'utf8').slice(-2500)}`,
      );
    });
    expect(live.session.status).toBe('active');

    const caller = await call;
    expect(caller.code, `${caller.out}\n${readFileSync(join(edge.runDir, 'kamailio.log'), 'utf8').slice(-3000)}`).toBe(0);
    expect((await phone).code).toBe(0);
    const closed = await eventually(async () => {
      const found = await s.services.store.latestSession(customer.id, 'SP');
      return found?.status === 'closed' ? found : null;
    }, 40_000);
    expect(closed.id).toBe(live.session.id);

    const messages = await s.services.store.listMessages(closed.conversationId);
    const transcripts = messages.filter((m) => m.meta['transcript'] === true);
    const text = transcripts.map((m) => (m.kind === 'text' ? m.body.text : '')).join(' ');
    process.stdout.write(`live transcript of the JFK clip over G.711 (${transcripts.length} utterances): ${text}\n`);
    // pocketsphinx on 8 kHz μ-law is weak (docs/ai-quality.md: 81.8 % WER on this clip given whole);
    // cut live at 300 ms pauses it heard e.g. "and on yeah ah what you are up ara yeah" and "aha aha
    // yeah ah what are up ara" in two runs, and at CI load 21 errors in 22 words (WER 0.955: only "what"
    // right). Bounds: "what" of the reference comes through, the WER stays below 1 (fewer errors than
    // reference words: something recognised, not buried in insertions; silence or noise decoded gives
    // more), and the utterances cover most of the 11 s of speech (the media arrived). The ASR's quality
    // is measured by `npm run eval -- asr` (docs/ai-quality.md), not here.
    const reference = readFileSync(join(CLIPS, 'transcripts.tsv'), 'utf8')
      .split('\n')
      .find((l) => l.includes('jfk_16k_mono.wav'))!
      .split('\t')[4]!;
    const wer = wordErrors(reference, text);
    const heardSeconds = transcripts.reduce((sum, m) => sum + (m.meta['end'] as number) - (m.meta['start'] as number), 0);
    process.stdout.write(
      `WER ${(wer.errors / wer.reference).toFixed(3)} (${wer.errors}/${wer.reference}), ${heardSeconds.toFixed(1)} s in utterances\n`,
    );
    expect(text).toMatch(/\bwhat\b/);
    expect(wer.errors / wer.reference).toBeLessThan(1);
    expect(heardSeconds).toBeGreaterThan(6);
    expect(heardSeconds).toBeLessThan(14);
    for (const m of transcripts) {
      expect(m.direction).toBe('in');
      expect(m.kind).toBe('text');
      expect(m.meta['asrEngine']).toMatch(/^pocketsphinx@/);
      expect(m.meta['end'] as number).toBeGreaterThan(m.meta['start'] as number);
      // The speech emotion (prosody + the transcript's text emotion) is recorded with each utterance.
      const emotion = transcriptEmotionOf(m.meta);
      expect(emotion).not.toBeNull();
      expect(Object.values(emotion!.scores).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 2);
      expect(m.meta['arousal'] as number).toBeGreaterThan(0);
    }
    // The transcripts sit between the answer and the hang-up in the session's history.
    const order = messages.map((m) => (m.kind === 'event' ? m.body.name : m.meta['transcript'] ? 'transcript' : m.kind));
    expect(order.indexOf('call.answered')).toBeLessThan(order.indexOf('transcript'));
    expect(order.lastIndexOf('transcript')).toBeLessThan(order.indexOf('call.ended'));
    // The agent saw them live, marked as a transcript, with the emotion heard.
    const seen = pushed.filter((m) => m.transcript === true);
    expect(seen.length).toBe(transcripts.length);
    expect(seen.every((m) => m.emotion !== undefined)).toBe(true);
    // The recording (the caller's voice) is gone once the call is transcribed.
    const spool = join(edge.runDir, 'recordings', 'pcaps');
    expect(existsSync(spool) ? readdirSync(spool) : []).toEqual([]);
  }, 120_000);
});

/**
 * The edge must not wait for an ASR backlog: Kamailio posts the caller's BYE from a SIP worker and holds
 * the BYE's 200 until the server answers, so a server that waited for the last utterances to be
 * transcribed held every worker for seconds per call (a 200-call SIP bench stopped after 16 calls). Here
 * the ASR is an OpenAI-compatible endpoint that takes 8 s per utterance: the caller's BYE is still
 * answered at once, and the transcripts still land before `call.ended`, with the close after them.
 */
describe('a slow ASR does not hold the hang-up', () => {
  let s: TestServer;
  let edge: RunningEdge;
  let asr: Server;
  let work: string;
  let transcribed = 0;

  beforeAll(async () => {
    assertVoiceBinaries();
    asr = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        setTimeout(() => {
          transcribed++;
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ text: `slow words ${transcribed}` }));
        }, 8_000);
      });
    });
    await new Promise<void>((resolve) => asr.listen(0, '127.0.0.1', resolve));
    const { port } = asr.address() as AddressInfo;
    const config = writeConfigFile({
      ai: {
        speech: {
          asr: { engine: 'openai', openai: { baseUrl: `http://127.0.0.1:${port}/v1`, model: 'whisper-1', responseFormat: 'json' } },
        },
      },
    });
    s = await startTestServer({ HUILIU_CONFIG: config });
    edge = await startTestEdge(s);
    work = mkdtempSync(join(tmpdir(), 'huiliu-speech-slow-'));
  }, 60_000);

  afterAll(async () => {
    await edge?.stop();
    await s?.cleanup();
    await new Promise((resolve) => asr?.close(resolve));
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('answers the BYE at once while the last utterances are still being transcribed; the close follows them', async () => {
    const creds = (
      await s.app.inject({
        method: 'GET',
        url: '/api/v1/voice/credentials',
        headers: { authorization: `Bearer ${await s.login('agent1')}` },
      })
    ).json<VoiceCredentials>();
    const agent = await openAgentSocket(s, await s.login('agent1'));
    try {
      // How long each of the edge's `ended` posts took the server to answer (Kamailio holds the BYE's 200 meanwhile).
      const endedMs: number[] = [];
      const voice = s.services.voice;
      const event = voice.event.bind(voice);
      voice.event = async (request) => {
        const started = Date.now();
        try {
          return await event(request);
        } finally {
          if (request.event === 'ended') endedMs.push(Date.now() - started);
        }
      };
      // The caller talks for 11 s and hangs up at 14 s; sipp exits when its BYE is answered.
      const { phone, call, dialledAt } = await callWithJfkClip(edge, work, creds, { recvMs: 60_000, runMs: 90_000 });
      const caller = await call;
      const callMs = Date.now() - dialledAt;
      expect(caller.code, caller.out).toBe(0);
      expect((await phone).code).toBe(0);
      const customer = await s.services.store.findCustomerByIdentity('SP', 'tel:+86138001');
      const session = (await s.services.store.latestSession(customer!.id, 'SP'))!;
      // Utterances queue behind the 8 s ASR: at the hang-up some are still untranscribed.
      const heardAtHangUp = (await s.services.store.listMessages(session.conversationId)).filter(
        (m) => m.meta['transcript'] === true,
      ).length;
      process.stdout.write(
        `[slow asr] call ${callMs} ms (talk 14 s), ended answered in ${endedMs.join(', ')} ms, ${heardAtHangUp} utterances stored at the hang-up\n`,
      );
      // Waiting for the backlog (8 s an utterance) would hold it for seconds (Kamailio gives up at 4 s).
      expect(endedMs.length).toBe(1);
      expect(endedMs[0]).toBeLessThan(1_500);
      const closed = await eventually(async () => {
        const found = await s.services.store.getSession(session.id);
        return found?.status === 'closed' ? found : null;
      }, 60_000);
      const messages = await s.services.store.listMessages(closed.conversationId);
      const order = messages.map((m) => (m.kind === 'event' ? m.body.name : m.meta['transcript'] ? 'transcript' : m.kind));
      const transcripts = order.filter((o) => o === 'transcript').length;
      expect(transcripts).toBeGreaterThan(heardAtHangUp);
      expect(order.lastIndexOf('transcript')).toBeLessThan(order.indexOf('call.ended'));
    } finally {
      agent.close();
    }
  }, 150_000);
});
