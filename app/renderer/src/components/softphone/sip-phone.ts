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
  refer(target: string, options?: Record<string, unknown>): void;
  on(event: string, listener: (...args: never[]) => void): void;
}

/** The parts of JsSIP's UA this phone uses. */
export interface SipUaLike {
  start(): void;
  stop(): void;
  register(): void;
  isRegistered(): boolean;
  isConnected(): boolean;
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
  /** A transfer in progress or done: the target and how it went. */
  transfer: { target: string; state: 'pending' | 'accepted' | 'failed' } | null;
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
  /** The WebSocket URI to use from the server's list; default: wss when the page is https and one exists, else the first ws(s). */
  pickUri?(uris: readonly string[]): string | null;
  now?: () => number;
  setTimer?: (fn: () => void, ms: number) => unknown;
  clearTimer?: (handle: unknown) => void;
  /** Media constraints when answering (default audio only). */
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
  setMuted(muted: boolean): void;
  setHeld(held: boolean): void;
  /** Sends DTMF digits (0-9, *, #, A-D) in the call's RTP (RFC 4733 via RTCDTMFSender). Errors: INVALID_DTMF. */
  sendDtmf(digits: string): void;
  /** Blind transfer (RFC 3515 REFER) to a SIP URI or a user at the registrar's domain. */
  transfer(target: string): void;
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

/** The name to show for a From header: its display name, else the URI's user part. */
function callerName(from: { display_name?: string; uri?: { user?: string } } | undefined): string {
  return (from?.display_name || from?.uri?.user || '').slice(0, 128);
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

  function bindCall(call: SipCallLike, request: { getHeader(name: string): string | undefined; from?: unknown } | undefined) {
    session = call;
    const sid = request?.getHeader('X-Huiliu-Session')?.trim() ?? '';
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
      },
    });
    const mine = () => session === call;
    call.on('peerconnection', (e: { peerconnection: RTCPeerConnection }) => {
      e.peerconnection.addEventListener('track', (t: RTCTrackEvent) => {
        if (mine()) deps.onRemoteStream?.(t.streams[0] ?? new MediaStream([t.track]));
      });
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
      deps.onRemoteStream?.(null);
      patchCall({ state: 'ended', endReason: e?.cause ?? 'Terminated' });
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
      connection_recovery_min_interval: 1,
      connection_recovery_max_interval: 8,
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

  return {
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
      try {
        session.answer({ mediaConstraints: deps.media ?? { audio: true, video: false }, pcConfig: deps.pcConfig ?? { iceServers: [] } });
      } catch {
        emit({ error: 'MEDIA' });
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
      if (!call || state.call?.state !== 'active') return;
      const to = target.includes(':') ? target : `sip:${target}@${(state.aor ?? '').split('@')[1] ?? ''}`;
      patchCall({ transfer: { target: to, state: 'pending' } });
      call.refer(to, {
        eventHandlers: {
          accepted: () => session === call && patchCall({ transfer: { target: to, state: 'accepted' } }),
          failed: () => session === call && patchCall({ transfer: { target: to, state: 'failed' } }),
          requestFailed: () => session === call && patchCall({ transfer: { target: to, state: 'failed' } }),
        },
      });
    },
    snapshot: () => state,
  };
}
