import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { VoiceRouteRequest, VoiceRouteResponse } from '../../../common/api/voice';
import { encodeWav, resample } from '../ai/speech/audio';
import type { Tts } from '../ai/speech/types';
import type { QueueLanguageConfig } from '../config/config';
import type { Logger } from '../logging/logger';
import { callerOf } from './caller';
import type { VoiceEdge } from './edge';
import { ngClientForAddress, type NgClient } from './rtpengine-ng';

/**
 * The queue announcement (issue 18, docs/voice.md "Queue announcement"): a caller the server queues
 * hears `queue-<lang>.wav` (made by the edge with espeak-ng) as early media instead of ringback.
 *
 * Kamailio cannot give a caller early media from a queued INVITE's transaction on its own (there is no
 * callee whose SDP answer rtpengine could rewrite), so the server does the media half over rtpengine's
 * ng protocol when it answers `queue` for a new call whose INVITE carried SDP (Kamailio sends it, base64,
 * with the From tag):
 *  1. `offer` the caller's SDP (from-tag = the caller's), plain RTP/AVP, ICE removed — rtpengine now holds
 *     the caller's leg;
 *  2. `answer` for a placeholder callee (to-tag `huiliu-queue`) whose SDP is rtpengine's own offer with
 *     the port set to 9 (discard) and `a=sendonly`: nothing the caller says goes anywhere, and the answer
 *     rtpengine gives back (its port facing the caller, `a=sendonly`) is the SDP of Kamailio's `182 Queued`;
 *  3. `play media` the prompt to the caller's leg (`repeat-times`, so a long wait hears it again).
 * When the call leaves the queue (an agent rings, a refusal) the playback stops (`stop media`); Kamailio's
 * own offer to the agent then re-offers the same call (same from-tag) and the agent's answer replaces the
 * placeholder. A caller who hangs up while queued (`ended`): the call is deleted in rtpengine.
 * Failures are logged and the caller gets the plain `182 Queued` (ringback), never a refused call; so does
 * a WebRTC caller (an offer with DTLS-SRTP), whose browser would refuse this plain RTP/AVP answer.
 *
 * With a `tts` the prompt speaks the caller's place first ("You are number 3 in the queue.", "您现在排在
 * 第3位。"), in the caller's language (`languages`: dialled number, then caller prefix); a later
 * answer with another position plays the new one. A call parked again after an agent did not answer
 * (`retry` with the caller's SDP: Kamailio's first question of the re-parked INVITE) is announced again.
 */
export interface QueueAnnouncement {
  /** Called with each route answer: plays on a first `queue` (adds `sdp`), stops when the call leaves the queue. */
  onRoute(request: VoiceRouteRequest, answer: VoiceRouteResponse): Promise<VoiceRouteResponse>;
  /** The call ended (BYE, CANCEL while queued): its playback stops and rtpengine forgets it. */
  ended(callId: string): Promise<void>;
  /** Calls announced right now (Call-ID → the caller's From tag, when it started (ms), the language and the position spoken). */
  readonly playing: ReadonlyMap<string, Announced>;
  close(): void;
}

/** A call being announced to. */
export interface Announced {
  fromTag: string;
  since: number;
  lang: 'en' | 'zh';
  /** The position the playing prompt speaks; null: the general prompt (no TTS, or past `MAX_SPOKEN_POSITION`). */
  position: number | null;
}

/** Positions spoken (a prompt file each per language, cached); a longer queue hears the general prompt. */
export const MAX_SPOKEN_POSITION = 99;

/** The general prompt (the words of the edge's queue-<lang>.wav, after the position). */
const GENERAL = {
  en: 'Thank you for calling. All our agents are busy. Please stay on the line; you will be connected in turn.',
  zh: '感谢您的来电。坐席正忙，请不要挂机，我们将按顺序为您接通。',
} as const;

/** What the position prompt says. */
export function positionText(lang: 'en' | 'zh', position: number): string {
  return lang === 'zh' ? `您现在排在第${position}位。${GENERAL.zh}` : `You are number ${position} in the queue. ${GENERAL.en}`;
}

/**
 * The language a caller hears: the dialled user part's (`byDialled`), else the longest caller-number
 * prefix's (`byCallerPrefix`, matched on the E.164 number `+86…`), else `default`.
 */
export function queueLanguageOf(config: QueueLanguageConfig, request: Pick<VoiceRouteRequest, 'from' | 'to'>): 'en' | 'zh' {
  const dialled = /^(?:sips?):([^@;?>]+)@/i.exec((request.to ?? '').replace(/^.*</, '').trim())?.[1]?.toLowerCase();
  if (dialled && config.byDialled[dialled]) return config.byDialled[dialled];
  const number = callerOf(request.from).phone ?? '';
  let best: { prefix: string; lang: 'en' | 'zh' } | null = null;
  for (const [prefix, lang] of Object.entries(config.byCallerPrefix)) {
    const p = prefix.startsWith('+') ? prefix : `+${prefix}`;
    if (number.startsWith(p) && (!best || p.length > best.prefix.length)) best = { prefix: p, lang };
  }
  return best?.lang ?? config.default;
}

/** The placeholder callee's To tag in rtpengine (never sent in SIP). */
export const QUEUE_TAG = 'huiliu-queue';
/** How often the prompt repeats for one waiting caller (~7 s each: ~10 minutes). */
const REPEAT_TIMES = 80;
/**
 * A call still marked playing after this long is forgotten: a caller who CANCELs while queued is not
 * reported to the server (Kamailio's suspended route[ASK] is not resumed), only rtpengine is told.
 */
const FORGET_AFTER_MS = 2 * 3600_000;

/** The placeholder callee's SDP: rtpengine's offer, every media port 9 (discard), send-only (it only plays). */
export function placeholderAnswer(offer: string): string {
  return offer
    .split(/\r?\n/)
    .filter((line) => line !== '' && !/^a=(sendrecv|recvonly|sendonly|inactive|rtcp:|ice-|candidate|end-of-candidates)/.test(line))
    .flatMap((line) => (line.startsWith('m=') ? [line.replace(/^m=(\S+) \d+/, 'm=$1 9'), 'a=sendonly'] : [line]))
    .join('\r\n')
    .concat('\r\n');
}

/**
 * @param options.edge where rtpengine's ng port (`rtpengine`, `host:port`) and the prompts (`queuePrompts`) are
 * @param options.language which prompt to play when `languages` is not given (default `en`; `zh` when that is the only one)
 * @param options.languages the language per dialled number / caller prefix (config `voice.queueLanguage`)
 * @param options.tts speaks the position prompts (8 kHz WAV files written beside the edge's prompts, in
 *   `positions/`, which rtpengine reads); absent or failing: the general prompt, without the position
 */
export function createQueueAnnouncement(options: {
  edge: () => VoiceEdge;
  logger: Logger;
  language?: 'en' | 'zh';
  languages?: QueueLanguageConfig;
  tts?: Pick<Tts, 'synthesize' | 'langs'> | null;
  client?: (host: string, port: number) => NgClient;
}): QueueAnnouncement {
  const log = options.logger.child({ component: 'voice.queue-announcement' });
  const playing = new Map<string, Announced>();
  /** The language each session's caller heard first: a re-parked call (`retry`, no dialled number) keeps it. */
  const langOf = new Map<string, 'en' | 'zh'>();
  /** Position prompt files made so far (`<lang>:<n>` → path), and those being made. */
  const spoken = new Map<string, Promise<string | null>>();

  /** The WAV of "you are number `position`" + the general prompt in `lang`, made once (TTS, 8 kHz); null without TTS. */
  function positionPrompt(lang: 'en' | 'zh', position: number, generalPrompt: string): Promise<string | null> {
    const tts = options.tts;
    if (!tts || !tts.langs.includes(lang) || position < 1 || position > MAX_SPOKEN_POSITION) return Promise.resolve(null);
    const key = `${lang}:${position}`;
    let made = spoken.get(key);
    if (!made) {
      made = (async () => {
        const audio = await tts.synthesize({ text: positionText(lang, position), lang });
        const dir = join(dirname(generalPrompt), 'positions');
        mkdirSync(dir, { recursive: true, mode: 0o700 });
        const path = join(dir, `queue-${lang}-${position}.wav`);
        // Telephony rate: rtpengine then only encodes to G.711.
        writeFileSync(path, encodeWav(audio.sampleRate === 8000 ? audio : resample(audio, 8000)), { mode: 0o600 });
        return path;
      })().catch((error: unknown) => {
        spoken.delete(key);
        log.warn({ err: error, lang, position }, 'queue position prompt not made: the general prompt plays');
        return null;
      });
      spoken.set(key, made);
    }
    return made;
  }

  /** The prompt file for a caller: the position one when it can be made, else the general one. */
  async function promptFor(lang: 'en' | 'zh', position: number | null): Promise<{ file: string; position: number | null } | null> {
    const prompts = options.edge().queuePrompts ?? {};
    const general = prompts[lang] ?? prompts.en ?? prompts.zh;
    if (!general) return null;
    const spokenFile = position !== null ? await positionPrompt(lang, position, general) : null;
    return spokenFile ? { file: spokenFile, position } : { file: general, position: null };
  }
  const { clientFor, close: closeClient } = ngClientForAddress(options.client);

  async function announce(callId: string, fromTag: string, callerSdp: string, lang: 'en' | 'zh', position: number): Promise<string | null> {
    const edge = options.edge();
    const prompt = await promptFor(lang, position);
    if (!edge.rtpengine || !prompt) return null;
    const client = clientFor(edge.rtpengine);
    const common = {
      'call-id': callId,
      'from-tag': fromTag,
      ICE: 'remove',
      'transport-protocol': 'RTP/AVP',
      replace: ['origin', 'session-connection'],
    };
    const offer = await client.request({ command: 'offer', ...common, sdp: callerSdp });
    if (typeof offer['sdp'] !== 'string') throw new Error('rtpengine ng: offer without SDP');
    const answer = await client.request({ command: 'answer', ...common, 'to-tag': QUEUE_TAG, sdp: placeholderAnswer(offer['sdp']) });
    if (typeof answer['sdp'] !== 'string') throw new Error('rtpengine ng: answer without SDP');
    playing.set(callId, { fromTag, since: Date.now(), lang, position: prompt.position });
    await client.request({
      command: 'play media',
      'call-id': callId,
      'from-tag': fromTag,
      file: prompt.file,
      'repeat-times': REPEAT_TIMES,
    });
    return answer['sdp'];
  }

  /** A queued caller's place changed: the prompt with the new position replaces the playing one. */
  async function moved(callId: string, now: Announced, position: number): Promise<void> {
    const address = options.edge().rtpengine;
    if (!address || !options.tts || now.position === position) return;
    const prompt = await promptFor(now.lang, position);
    if (!prompt || prompt.position === now.position) return;
    now.position = prompt.position;
    await clientFor(address).request({
      command: 'play media',
      'call-id': callId,
      'from-tag': now.fromTag,
      file: prompt.file,
      'repeat-times': REPEAT_TIMES,
    });
  }

  async function stop(callId: string, then: 'stop media' | 'delete'): Promise<void> {
    const fromTag = playing.get(callId)?.fromTag;
    // Every call's hang-up comes here: the edge file is looked at only for a call being played to (issue 18).
    if (fromTag === undefined) return;
    const address = options.edge().rtpengine;
    if (!address) return;
    playing.delete(callId);
    const client = clientFor(address);
    try {
      await client.request({ command: 'stop media', 'call-id': callId, 'from-tag': fromTag });
    } catch (error) {
      // Played to the end already, or the call is gone: nothing to stop.
      log.debug({ err: error }, 'queue announcement: stop media');
    }
    if (then === 'delete') await client.request({ command: 'delete', 'call-id': callId, 'from-tag': fromTag }).catch(() => undefined);
  }

  return {
    playing,
    async onRoute(request, answer) {
      for (const [callId, { since }] of playing) if (Date.now() - since > FORGET_AFTER_MS) playing.delete(callId);
      if (answer.action !== 'queue') {
        if (playing.has(request.callId)) await stop(request.callId, 'stop media');
        return answer;
      }
      const now = playing.get(request.callId);
      if (now) {
        await moved(request.callId, now, answer.position).catch((error: unknown) => {
          log.warn({ err: error, sessionId: answer.sessionId }, 'queue announcement: the new position was not played');
        });
        return answer;
      }
      // A new call, or one parked again after an agent did not answer (Kamailio sends its SDP again then).
      if (!request.sdp || !request.fromTag) return answer;
      const offer = Buffer.from(request.sdp, 'base64').toString('utf8');
      // A WebRTC caller (a browser: DTLS-SRTP, ICE) would refuse the plain RTP/AVP answer made here: ringback.
      if (/UDP\/TLS|RTP\/SAVP|^a=fingerprint:/m.test(offer)) return answer;
      let lang = langOf.get(answer.sessionId);
      if (!lang) {
        lang = options.languages ? queueLanguageOf(options.languages, request) : (options.language ?? 'en');
        if (langOf.size >= 10_000) langOf.delete(langOf.keys().next().value!);
        langOf.set(answer.sessionId, lang);
      }
      try {
        const sdp = await announce(request.callId, request.fromTag, offer, lang, answer.position);
        return sdp ? { ...answer, sdp: Buffer.from(sdp, 'utf8').toString('base64') } : answer;
      } catch (error) {
        log.warn({ err: error, sessionId: answer.sessionId }, 'queue announcement not played: the caller hears ringback');
        await stop(request.callId, 'delete');
        return answer;
      }
    },
    async ended(callId) {
      await stop(callId, 'delete');
    },
    close() {
      closeClient();
    },
  };
}
