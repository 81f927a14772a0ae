import type { VoiceRouteRequest, VoiceRouteResponse } from '../../../common/api/voice';
import type { Logger } from '../logging/logger';
import type { VoiceEdge } from './edge';
import { createNgClient, type NgClient } from './rtpengine-ng';

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
 */
export interface QueueAnnouncement {
  /** Called with each route answer: plays on a first `queue` (adds `sdp`), stops when the call leaves the queue. */
  onRoute(request: VoiceRouteRequest, answer: VoiceRouteResponse): Promise<VoiceRouteResponse>;
  /** The call ended (BYE, CANCEL while queued): its playback stops and rtpengine forgets it. */
  ended(callId: string): Promise<void>;
  /** Calls announced right now (Call-ID → the caller's From tag and when it started, ms). */
  readonly playing: ReadonlyMap<string, { fromTag: string; since: number }>;
  close(): void;
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
 * @param options.language which prompt to play (default `en`; `zh` when that is the only one)
 */
export function createQueueAnnouncement(options: {
  edge: () => VoiceEdge;
  logger: Logger;
  language?: 'en' | 'zh';
  client?: (host: string, port: number) => NgClient;
}): QueueAnnouncement {
  const log = options.logger.child({ component: 'voice.queue-announcement' });
  const playing = new Map<string, { fromTag: string; since: number }>();
  let ng: { address: string; client: NgClient } | null = null;
  const clientFor = (address: string): NgClient => {
    if (ng?.address === address) return ng.client;
    ng?.client.close();
    const colon = address.lastIndexOf(':');
    const client = (options.client ?? createNgClient)(address.slice(0, colon).replace(/^\[|\]$/g, ''), Number(address.slice(colon + 1)));
    ng = { address, client };
    return client;
  };

  async function announce(callId: string, fromTag: string, callerSdp: string): Promise<string | null> {
    const edge = options.edge();
    const prompts = edge.queuePrompts ?? {};
    const prompt = prompts[options.language ?? 'en'] ?? prompts.en ?? prompts.zh;
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
    playing.set(callId, { fromTag, since: Date.now() });
    await client.request({ command: 'play media', 'call-id': callId, 'from-tag': fromTag, file: prompt, 'repeat-times': REPEAT_TIMES });
    return answer['sdp'];
  }

  async function stop(callId: string, then: 'stop media' | 'delete'): Promise<void> {
    const fromTag = playing.get(callId)?.fromTag;
    const address = options.edge().rtpengine;
    if (fromTag === undefined || !address) return;
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
      if (request.event !== 'invite' || !request.sdp || !request.fromTag || playing.has(request.callId)) return answer;
      const offer = Buffer.from(request.sdp, 'base64').toString('utf8');
      // A WebRTC caller (a browser: DTLS-SRTP, ICE) would refuse the plain RTP/AVP answer made here: ringback.
      if (/UDP\/TLS|RTP\/SAVP|^a=fingerprint:/m.test(offer)) return answer;
      try {
        const sdp = await announce(request.callId, request.fromTag, offer);
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
      ng?.client.close();
      ng = null;
    },
  };
}
