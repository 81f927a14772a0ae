import type { VoiceCredentials } from '../../../../../common/api/voice';

/**
 * The agent's SIP phone (issue 18, docs/voice.md "Softphone"): one JsSIP user agent registered over SIP
 * over WebSocket (RFC 7118) to Kamailio with the server-issued ephemeral credentials, and at most one
 * call. The JsSIP API is injected (`jssip`) so the logic runs in unit tests against a fake; in the
 * workstation it is the `jssip` package. No React, no store: `onChange` receives every new snapshot.
 */

/** The parts of JsSIP's RTCSession this phone uses (jssip 3.x, lib/RTCSession.d.ts). */
export interface SipCallLike {
  direction: 'incoming' | 'outgoing';
  connection?: RTCPeerConnection | null;
  answer(options?: { mediaConstraints?: MediaStreamConstraints; pcConfig?: RTCConfiguration }): void;
  terminate(options?: { status_code?: number; reason_phrase?: string }): void;
  mute(options?: { audio?: boolean; video?: boolean }): void;
  unmute(options?: { audio?: boolean; video?: boolean }): void;
  hold(options?: unknown, done?: () => void): boolean;
  unhold(options?: unknown, done?: () => void): boolean;
  sendDTMF(tones: string, options?: { duration?: number; interToneGap?: number; transportType?: 'INFO' | 'RFC2833' }): void;
  /** RFC 3515 REFER; `replaces`: another call of this UA, for an attended transfer (Refer-To with Replaces, RFC 3891). */
  refer(target: string, options?: Record<string, unknown>): void;
  on(event: string, listener: (...args: never[]) => void): void;
}

/** What the phone reads of an incoming INVITE (JsSIP's IncomingRequest). */
interface InviteLike {
  getHeader(name: string): string | undefined;
  hasHeader?(name: string): boolean;
  from?: unknown;
  /** The SDP offer. */
  body?: string;
}

/** The parts of JsSIP's UA this phone uses. */
export interface SipUaLike {
  start(): void;
  stop(): void;
  register(): void;
  isRegistered(): boolean;
  isConnected(): boolean;
  /** An outgoing call (the consult call of an attended transfer). */
  call(target: string, options?: Record<string, unknown>): SipCallLike;
  on(event: string, listener: (...args: never[]) => void): void;
}

/** The injected JsSIP API: `import * as JsSIP from 'jssip'` fits it. */
export interface JsSipApi {
  UA: new (config: Record<string, unknown>) => SipUaLike;
  WebSocketInterface: new (url: string) => unknown;
}

export type Registration = 'off' | 'connecting' | 'registered' | 'unregistered' | 'failed';

export type CallState = 'ringing' | 'connecting' | 'active' | 'ended';

/** The call the phone has (there is at most one): who, which SP session, its state and the agent's controls. */
export interface PhoneCall {
  /** The SP session the server opened for the call (`X-Huiliu-Session`, set by Kamailio only), or null. */
  sessionId: string | null;
  /** The caller's SIP identity as the INVITE's From shows it (display name or user part). */
  caller: string;
  state: CallState;
  muted: boolean;
  held: boolean;
  /** When the call was answered (ms since epoch), for the call timer; null until then. */
  answeredAt: number | null;
  /** The DTMF digits sent during this call, in order. */
  dtmf: string;
  /** Why it ended (`Terminated`, `Rejected`, a SIP reason…), once ended. */
  endReason: string | null;
  /**
   * A transfer in progress or done: the target, blind or attended, and how it went. `pending` from the
   * REFER until the customer's NOTIFY with a final status; `accepted` once it says 2xx (our leg is then
   * hung up); `failed` when the REFER is refused or the NOTIFY reports a failure (the call stays ours).
   * `code`: the SIP status of a failure (the REFER's response, or the sipfrag of the NOTIFY), when known.
   */
  transfer: { target: string; state: 'pending' | 'accepted' | 'failed'; attended?: boolean; code?: number } | null;
  /**
   * The consult call of an attended transfer (RFC 5589 §7): the customer is on hold meanwhile; it ends
   * in `complete` (REFER with Replaces) or `cancel` (hang up the consult, resume the customer).
   */
  consult: { target: string; state: 'calling' | 'active' | 'ended' | 'failed' } | null;
  /** The caller offered video (an `m=video` line with a port): the answer carries the camera when there is one. */
  videoOffered: boolean;
  /** The call carries video both ways (answered with the camera). */
  video: boolean;
}

export interface PhoneSnapshot {
  registration: Registration;
  /** The AOR registered (`sip:agent1@domain`), once credentials were fetched. */
  aor: string | null;
  call: PhoneCall | null;
  /** The last registration or media error, as a stable code (`CREDENTIALS`, `REGISTRATION`, `MEDIA`…). */
  error: string | null;
}

export interface SipPhoneDeps {
  jssip: JsSipApi;
  /** `GET /api/v1/voice/credentials` with the agent's bearer token. Throws when the server refuses. */
  fetchCredentials(): Promise<VoiceCredentials>;
  onChange(snapshot: PhoneSnapshot): void;
  /** The remote party's audio (and video) stream of the current call; null when the call ends. */
  onRemoteStream?(stream: MediaStream | null): void;
  /** The agent's own camera stream of a video call (the dock's preview); null when none or the call ends. */
  onLocalStream?(stream: MediaStream | null): void;
  /** Whether this machine has a camera (default: `enumerateDevices` lists a `videoinput`). */
  hasCamera?: () => Promise<boolean>;
  /** The WebSocket URI to use from the server's list; default: wss when the page is https and one exists, else the first ws(s). */
  pickUri?(uris: readonly string[]): string | null;
  now?: () => number;
  setTimer?: (fn: () => void, ms: number) => unknown;
  clearTimer?: (handle: unknown) => void;
  /** Media constraints when answering (default audio, plus video when the caller offered it and a camera exists). */
  media?: MediaStreamConstraints;
  /**
   * The peer connection's configuration; default no STUN/TURN servers: rtpengine does ICE itself and is
   * reachable from the agents' network, so host candidates suffice (and no public STUN server is asked).
   */
  pcConfig?: RTCConfiguration;
}

export interface SipPhone {
  /** Fetches credentials and registers; re-fetches them before they expire (at 80 % of their TTL). */
  start(): Promise<void>;
  /** Unregisters and stops the UA (sign-out). Ends a call in progress. */
  stop(): void;
  /**
   * The network came back or the machine woke up: a new UA with fresh credentials registers at once
   * (within seconds, well inside the 10 s target), unless a call is up (its WebSocket is then alive).
   */
  reconnectNow(reason: string): Promise<void>;
  answer(): void;
  /** Declines a ringing call (486 Busy Here: Kamailio offers the call to the next agent) or hangs up. */
  hangUp(): void;
  /**
   * The server closed this SP session while its call may still be up here: the call was lost (rtpengine
   * forgot its media and the hang-up never came: the server ended it, docs/voice.md "Liveness"), the
   * contact was closed in the workstation, or the customer's data was erased. A connecting or active
   * call of that session hangs up (BYE) so the agent is not left in a dead call; its `endReason` is
   * `SESSION_CLOSED`. Any other call (another session, ringing, already ended) is left alone.
   */
  sessionClosed(sessionId: string): void;
  setMuted(muted: boolean): void;
  setHeld(held: boolean): void;
  /** Sends DTMF digits (0-9, *, #, A-D) in the call's RTP (RFC 4733 via RTCDTMFSender). Errors: INVALID_DTMF. */
  sendDtmf(digits: string): void;
  /**
   * Blind transfer (RFC 3515 REFER, RFC 5589 §6) to a SIP URI or a user at the registrar's domain. Our
   * leg hangs up when the customer's NOTIFY says 2xx (`transfer.state` `accepted`); a refused REFER or a
   * failure NOTIFY leaves the call with us (`failed`, with the SIP `code`). Nothing happens without an
   * active call or while a transfer is pending.
   */
  transfer(target: string): void;
  /**
   * Attended transfer, step 1 (RFC 5589 §7): holds the customer and calls `target` (an agent's user or
   * SIP URI) on a second line. Nothing happens without an active call or while a consult is up.
   */
  consult(target: string): void;
  /** Step 2: REFER the customer to the consulted agent with Replaces naming the consult call (RFC 3891); our leg ends when the customer's new call is up (NOTIFY 200). */
  completeTransfer(): void;
  /** Or: hang up the consult call and resume the customer. */
  cancelConsult(): void;
  snapshot(): PhoneSnapshot;
}

/** Credentials are renewed at this fraction of their lifetime. */
const RENEW_AT = 0.8;

export function defaultPickUri(
  uris: readonly string[],
  secure = typeof location !== 'undefined' && location.protocol === 'https:',
): string | null {
  const ws = uris.filter((u) => /^wss?:\/\//i.test(u));
  return (secure ? ws.find((u) => u.startsWith('wss:')) : undefined) ?? ws[0] ?? null;
}

/** Whether the SDP offers video: an `m=video` line with a non-zero port (RFC 4566 §5.14, RFC 3264 §5.1). */
export function offersVideo(sdp: string | undefined): boolean {
  return /^m=video [1-9]/m.test(sdp ?? '');
}

async function defaultHasCamera(): Promise<boolean> {
  try {
    const devices = await navigator.mediaDevices.enumerateDevices();
    return devices.some((d) => d.kind === 'videoinput');
  } catch {
    return false;
  }
}

/** The name to show for a From header: its display name, else the URI's user part. */
function callerName(from: { display_name?: string; uri?: { user?: string } } | undefined): string {
  return (from?.display_name || from?.uri?.user || '').slice(0, 128);
}

/** What JsSIP passes to a REFER's `requestFailed` (`response`) or `failed` (`status_line` of the NOTIFY's sipfrag). */
interface SipFailureLike {
  response?: { status_code?: number | string };
  status_line?: { status_code?: number | string };
}

/** The SIP status code of a failed REFER (its response, else the NOTIFY's sipfrag), or null when neither says. */
export function failureCode(e: SipFailureLike | undefined): number | null {
  const code = Number(e?.response?.status_code ?? e?.status_line?.status_code);
  return Number.isInteger(code) && code >= 300 && code <= 699 ? code : null;
}

/** Creates the phone (nothing happens until `start`). */
export function createSipPhone(deps: SipPhoneDeps): SipPhone {
  const now = deps.now ?? Date.now;
  const setTimer = deps.setTimer ?? ((fn, ms) => setTimeout(fn, ms));
  const clearTimer = deps.clearTimer ?? ((h) => clearTimeout(h as ReturnType<typeof setTimeout>));
  let state: PhoneSnapshot = { registration: 'off', aor: null, call: null, error: null };
  let ua: SipUaLike | null = null;
  let session: SipCallLike | null = null;
  let renewTimer: unknown = null;
  let stopped = true;
  /** Bumped for every new UA: events of an older one are ignored. */
  let generation = 0;
  let renewWhenIdle = false;
  /** The call `sessionClosed` hung up: its end reason is `SESSION_CLOSED`. */
  let closedByServer: SipCallLike | null = null;
  /** The consult call of an attended transfer (our outgoing second line), while it is up. */
  let consultCall: SipCallLike | null = null;
  /** The call an incoming INVITE with Replaces is about to replace (we accepted its `replaces` event). */
  let replacing: SipCallLike | null = null;

  const emit = (patch: Partial<PhoneSnapshot>) => {
    state = { ...state, ...patch };
    deps.onChange(state);
  };
  const patchCall = (patch: Partial<PhoneCall>) => {
    if (state.call) emit({ call: { ...state.call, ...patch } });
  };

  function schedule(ttlSeconds: number) {
    if (renewTimer !== null) clearTimer(renewTimer);
    renewTimer = setTimer(
      () => {
        renewTimer = null;
        void renew();
      },
      Math.max(1_000, ttlSeconds * 1000 * RENEW_AT),
    );
  }

  async function renew() {
    if (stopped) return;
    if (session) {
      renewWhenIdle = true;
      return;
    }
    await connect();
  }

  const uriOf = (target: string) => (target.includes(':') ? target : `sip:${target}@${(state.aor ?? '').split('@')[1] ?? ''}`);

  function bindCall(call: SipCallLike, request: InviteLike | undefined) {
    session = call;
    const sid = request?.getHeader('X-Huiliu-Session')?.trim() ?? '';
    const videoOffered = offersVideo(request?.body);
    emit({
      call: {
        sessionId: /^SP\d{18}$/.test(sid) ? sid : null,
        caller: callerName(request?.from as Parameters<typeof callerName>[0]),
        state: 'ringing',
        muted: false,
        held: false,
        answeredAt: null,
        dtmf: '',
        endReason: null,
        transfer: null,
        consult: null,
        videoOffered,
        video: false,
      },
    });
    const mine = () => session === call;
    call.on('peerconnection', (e: { peerconnection: RTCPeerConnection }) => {
      // One stream of every remote track (audio and video), whatever msid the far end's SDP carried.
      const remote = typeof MediaStream === 'undefined' ? null : new MediaStream();
      e.peerconnection.addEventListener('track', (t: RTCTrackEvent) => {
        if (!mine()) return;
        if (!remote) return deps.onRemoteStream?.(t.streams[0] ?? null);
        remote.addTrack(t.track);
        deps.onRemoteStream?.(remote);
      });
    });
    // An INVITE with Replaces for this call (the customer coming over from a colleague's attended
    // transfer of them to us, RFC 3891): take it; the new call replaces this one (JsSIP ends this one
    // when the new one is confirmed).
    call.on('replaces', (e: { accept(cb?: unknown): void }) => {
      if (!mine()) return;
      replacing = call;
      e.accept();
    });
    call.on('accepted', () => mine() && patchCall({ state: 'connecting' }));
    call.on('confirmed', () => mine() && patchCall({ state: 'active', answeredAt: state.call?.answeredAt ?? now() }));
    call.on('hold', () => mine() && patchCall({ held: true }));
    call.on('unhold', () => mine() && patchCall({ held: false }));
    call.on('muted', () => mine() && patchCall({ muted: true }));
    call.on('unmuted', () => mine() && patchCall({ muted: false }));
    const finish = (e: { cause?: string } | undefined) => {
      if (!mine()) return;
      session = null;
      const consultLeft = consultCall;
      consultCall = null;
      // After an attended transfer the colleague's phone ends the consult itself (its call was replaced).
      const transferred = state.call?.transfer?.attended && state.call.transfer.state === 'accepted';
      if (consultLeft && !transferred) {
        try {
          consultLeft.terminate();
        } catch {
          // Already ended.
        }
      }
      deps.onRemoteStream?.(null);
      deps.onLocalStream?.(null);
      patchCall({ state: 'ended', endReason: closedByServer === call ? 'SESSION_CLOSED' : (e?.cause ?? 'Terminated') });
      if (renewWhenIdle) {
        renewWhenIdle = false;
        void renew();
      }
    };
    call.on('ended', finish);
    call.on('failed', finish);
  }

  async function connect() {
    const mine = ++generation;
    const old = ua;
    ua = null;
    if (old) {
      try {
        old.stop();
      } catch {
        // A UA whose socket is already gone: nothing to stop.
      }
    }
    emit({ registration: 'connecting', error: null });
    let creds: VoiceCredentials;
    try {
      creds = await deps.fetchCredentials();
    } catch {
      if (mine === generation) emit({ registration: 'failed', error: 'CREDENTIALS' });
      if (!stopped) schedule(30 / RENEW_AT);
      return;
    }
    if (mine !== generation || stopped) return;
    const uri = (deps.pickUri ?? defaultPickUri)(creds.uris);
    if (!uri) {
      emit({ registration: 'failed', aor: creds.aor, error: 'NO_WEBSOCKET' });
      return;
    }
    const agent = new deps.jssip.UA({
      sockets: [new deps.jssip.WebSocketInterface(uri)],
      uri: creds.aor,
      authorization_user: creds.username,
      password: creds.password,
      realm: creds.realm,
      register: true,
      register_expires: 300,
      session_timers: false,
      user_agent: 'huiliu-softphone',
      // A WebSocket that died under us (network change, wake-up) is tried again every 1–2 s: registered
      // again within seconds of the network coming back (issue 18: within 10 s), at the cost of a
      // connection attempt every 2 s to our own edge while it is unreachable.
      connection_recovery_min_interval: 1,
      connection_recovery_max_interval: 2,
    });
    ua = agent;
    const live = () => mine === generation;
    agent.on('registered', () => live() && emit({ registration: 'registered', error: null }));
    agent.on('unregistered', () => live() && emit({ registration: 'unregistered' }));
    agent.on('registrationFailed', () => live() && emit({ registration: 'failed', error: 'REGISTRATION' }));
    agent.on('disconnected', () => live() && state.registration === 'registered' && emit({ registration: 'connecting' }));
    agent.on(
      'newRTCSession',
      (e: { session: SipCallLike; originator: string; request?: { getHeader(n: string): string | undefined; from?: unknown } }) => {
        if (!live() || e.originator !== 'remote') return;
        if (session && replacing === session && e.request?.getHeader('Replaces')) {
          // The replacing call (we accepted the `replaces` event of our call): it takes the line at once.
          replacing = null;
          bindCall(e.session, e.request);
          patchCall({ state: 'connecting' });
          void answerWithMedia(e.session, state.call?.videoOffered ?? false);
          return;
        }
        if (session) {
          // One call at a time (voice capacity 1): the router offers the next agent.
          e.session.terminate({ status_code: 486, reason_phrase: 'Busy Here' });
          return;
        }
        bindCall(e.session, e.request);
      },
    );
    emit({ aor: creds.aor });
    agent.start();
    schedule(creds.ttl);
  }

  /** Answers `call` with the microphone, and the camera when the caller offered video and one exists. */
  async function answerWithMedia(call: SipCallLike, videoOffered: boolean): Promise<void> {
    let media = deps.media;
    if (!media) {
      const camera = videoOffered && (await (deps.hasCamera ?? defaultHasCamera)());
      media = { audio: true, video: camera };
    }
    if (session !== call) return;
    const video = Boolean(media.video);
    if (video) {
      call.on('confirmed', () => {
        const local = call.connection?.getSenders?.().flatMap((x) => (x.track ? [x.track] : [])) ?? [];
        if (session === call && local.length && typeof MediaStream !== 'undefined') deps.onLocalStream?.(new MediaStream(local));
      });
    }
    try {
      call.answer({ mediaConstraints: media, pcConfig: deps.pcConfig ?? { iceServers: [] } });
      patchCall({ video });
    } catch {
      emit({ error: 'MEDIA' });
    }
  }

  function bindConsult(call: SipCallLike, target: string) {
    consultCall = call;
    const mine = () => consultCall === call;
    const set = (s: 'calling' | 'active' | 'ended' | 'failed') => patchCall({ consult: { target, state: s } });
    set('calling');
    call.on('confirmed', () => mine() && set('active'));
    const over = (failed: boolean) => () => {
      if (!mine()) return;
      consultCall = null;
      // A consult that ends before the transfer: the customer is still ours, on hold (Resume, or Cancel).
      if (state.call?.transfer?.attended && state.call.transfer.state !== 'failed') return;
      set(failed ? 'failed' : 'ended');
    };
    call.on('ended', over(false));
    call.on('failed', over(true));
  }

  /**
   * Hangs up `call` after a transfer's NOTIFY 200, on the next tick: JsSIP emits the REFER's `accepted`
   * before it answers that NOTIFY, and a BYE first would end the dialog with the NOTIFY unanswered
   * (the customer's side retransmits it, or counts our BYE as unexpected).
   */
  function leaveAfterNotify(call: SipCallLike) {
    setTimer(() => {
      if (session !== call) return;
      try {
        call.terminate();
      } catch {
        // Already ended (the customer hung up on us first).
      }
    }, 0);
  }

  const api: SipPhone = {
    async start() {
      stopped = false;
      await connect();
    },
    stop() {
      stopped = true;
      generation++;
      if (renewTimer !== null) clearTimer(renewTimer);
      renewTimer = null;
      if (session) {
        try {
          session.terminate();
        } catch {
          // Already ended.
        }
      }
      session = null;
      const old = ua;
      ua = null;
      try {
        old?.stop();
      } catch {
        // Already stopped.
      }
      emit({ registration: 'off', call: null });
    },
    async reconnectNow() {
      if (stopped) return;
      if (session) return;
      await connect();
    },
    answer() {
      if (!session || state.call?.state !== 'ringing') return;
      patchCall({ state: 'connecting' });
      void answerWithMedia(session, state.call.videoOffered);
    },
    sessionClosed(sessionId) {
      const call = session;
      const current = state.call;
      if (!call || !current || current.sessionId !== sessionId) return;
      if (current.state !== 'active' && current.state !== 'connecting') return;
      closedByServer = call;
      try {
        call.terminate();
      } catch {
        // Already ending.
      }
    },
    hangUp() {
      if (!session) {
        if (state.call?.state === 'ended') emit({ call: null });
        return;
      }
      const ringing = state.call?.state === 'ringing';
      try {
        session.terminate(ringing ? { status_code: 486, reason_phrase: 'Busy Here' } : undefined);
      } catch {
        // Already ending.
      }
    },
    setMuted(muted) {
      if (!session) return;
      if (muted) session.mute({ audio: true });
      else session.unmute({ audio: true });
    },
    setHeld(held) {
      // JsSIP refuses a new offer while the last re-INVITE is still unanswered (hold, then resume at
      // once): ask again every 200 ms, for up to 5 s, until the call is in the state asked for.
      const apply = (tries: number) => {
        const call = session;
        if (!call || state.call?.state !== 'active' || state.call.held === held) return;
        const accepted = held ? call.hold() : call.unhold();
        if (!accepted && tries > 0) setTimer(() => apply(tries - 1), 200);
      };
      apply(25);
    },
    sendDtmf(digits) {
      if (!/^[0-9A-D*#]{1,32}$/i.test(digits)) throw new Error('INVALID_DTMF');
      if (!session || state.call?.state !== 'active') return;
      session.sendDTMF(digits, { transportType: 'RFC2833', duration: 100, interToneGap: 70 });
      patchCall({ dtmf: `${state.call.dtmf}${digits}`.slice(-64) });
    },
    transfer(target) {
      const call = session;
      if (!call || state.call?.state !== 'active' || state.call.transfer?.state === 'pending') return;
      const to = uriOf(target);
      const failed = (e?: SipFailureLike) => {
        if (session !== call) return;
        const code = failureCode(e);
        patchCall({ transfer: { target: to, state: 'failed', ...(code ? { code } : {}) } });
      };
      patchCall({ transfer: { target: to, state: 'pending' } });
      call.refer(to, {
        eventHandlers: {
          // NOTIFY with a 2xx sipfrag (RFC 3515 §2.4.5): the customer's new call is up at the target; our
          // leg ends now (RFC 5589 §6.1: the transferor sends BYE), the dock shows where the customer went.
          accepted: () => {
            if (session !== call) return;
            patchCall({ transfer: { target: to, state: 'accepted' } });
            leaveAfterNotify(call);
          },
          // The REFER refused (4xx–6xx) or the customer's new call failed (NOTIFY with a failure sipfrag):
          // the customer is still on this call, with us.
          failed,
          requestFailed: failed,
        },
      });
    },
    consult(target) {
      const call = session;
      if (!call || !ua || consultCall || state.call?.state !== 'active' || !target.trim()) return;
      const to = uriOf(target.trim());
      if (!state.call.held) api.setHeld(true);
      patchCall({ transfer: null });
      bindConsult(ua.call(to, { mediaConstraints: { audio: true, video: false }, pcConfig: deps.pcConfig ?? { iceServers: [] } }), to);
    },
    completeTransfer() {
      const call = session;
      const other = consultCall;
      const target = state.call?.consult?.target;
      if (!call || !other || !target || state.call?.consult?.state !== 'active') return;
      const done = (ok: boolean) => {
        if (session !== call) return;
        patchCall({ transfer: { target, state: ok ? 'accepted' : 'failed', attended: true } });
        if (!ok) return;
        // The customer talks to the colleague now (NOTIFY 200): our leg to them ends (RFC 5589 §7.1).
        leaveAfterNotify(call);
      };
      patchCall({ transfer: { target, state: 'pending', attended: true } });
      call.refer(target, {
        replaces: other,
        eventHandlers: { accepted: () => done(true), failed: () => done(false), requestFailed: () => done(false) },
      });
    },
    cancelConsult() {
      const other = consultCall;
      consultCall = null;
      if (other) {
        try {
          other.terminate();
        } catch {
          // Already ended.
        }
      }
      if (state.call?.consult) patchCall({ consult: null, transfer: null });
      if (state.call?.held) api.setHeld(false);
    },
    snapshot: () => state,
  };
  return api;
}
