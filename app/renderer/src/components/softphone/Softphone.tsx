import * as JsSIP from 'jssip';
import { useContext, useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useStore } from 'zustand';
import type { VoiceCredentials } from '../../../../../common/api/voice';
import { BridgeContext, useWorkstation } from '../../context';
import { createSoftphoneStore, type SoftphoneStore } from '../../stores/softphone';
import { callClock } from './call-clock';
import { startRingtone } from './ringtone';
import { createSipPhone, type JsSipApi } from './sip-phone';
import { useCustomerName } from '../../customer-name';

const KEYS = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '*', '0', '#'] as const;

/**
 * The status of a session (`GET /api/v1/sessions/:id`, same origin, the agent's bearer token); null when
 * the server does not show it to this agent (4xx: 401/403/404), `undefined` when there was no usable answer
 * (network error, 5xx, 429, not JSON: worth asking again).
 */
async function fetchSessionStatus(token: string, sessionId: string): Promise<string | null | undefined> {
  try {
    const res = await fetch(`/api/v1/sessions/${encodeURIComponent(sessionId)}`, { headers: { authorization: `Bearer ${token}` } });
    if (res.status === 429 || res.status >= 500) return undefined;
    if (!res.ok) return null;
    const body = (await res.json()) as { status?: unknown };
    return typeof body.status === 'string' ? body.status : undefined;
  } catch {
    return undefined;
  }
}

/** When the session's status is asked again after no usable answer (ms after the previous try). */
const SESSION_STATUS_RETRY_MS = [2_000, 5_000, 15_000] as const;

/** `GET /api/v1/voice/credentials` (same origin) with the agent's bearer token. Errors: the server's code. */
async function fetchCredentials(token: string): Promise<VoiceCredentials> {
  const res = await fetch('/api/v1/voice/credentials', { headers: { authorization: `Bearer ${token}` } });
  if (!res.ok) throw new Error(`VOICE_CREDENTIALS_${res.status}`);
  return (await res.json()) as VoiceCredentials;
}

let shared: SoftphoneStore | null = null;
/** One phone per window, made on first use with the real JsSIP. */
function softphoneStore(): SoftphoneStore {
  shared ??= createSoftphoneStore({
    makePhone: (token, emit, remote, local) =>
      createSipPhone({
        jssip: JsSIP as unknown as JsSipApi,
        fetchCredentials: () => fetchCredentials(token),
        onChange: emit,
        onRemoteStream: remote,
        ...(local ? { onLocalStream: local } : {}),
      }),
  });
  return shared;
}

/**
 * The agent's softphone (issue 18): a dock at the bottom right of the workstation. It registers while
 * the agent is signed in, rings (tone and card) with the contact's context when a call is offered,
 * and carries the in-call controls: mute, hold, keypad (DTMF), blind and attended transfer (consult,
 * then complete or cancel), hang-up and the timer; a caller's video shows when both ends have it.
 */
export function Softphone({ store = softphoneStore() }: { store?: SoftphoneStore }) {
  const { t } = useTranslation('softphone');
  const nameOf = useCustomerName();
  const token = useWorkstation((s) => s.token);
  const bridge = useContext(BridgeContext);
  const phone = useStore(store);
  const call = phone.call;
  const sessionId = call?.sessionId ?? null;
  const summary = useWorkstation((s) => (sessionId ? (s.queue[sessionId] ?? null) : null));
  const detail = useWorkstation((s) => (sessionId && s.detail?.id === sessionId ? s.detail : null));
  const openSession = useWorkstation((s) => s.openSession);
  const [keypad, setKeypad] = useState(false);
  const [transferTo, setTransferTo] = useState('');
  const [clock, setClock] = useState(Date.now());
  const audio = useRef<HTMLAudioElement>(null);
  const remoteVideo = useRef<HTMLVideoElement>(null);
  const localVideo = useRef<HTMLVideoElement>(null);

  // Registered while signed in; unregistered on sign-out.
  useEffect(() => {
    if (!token) return;
    void store.getState().start(token);
    return () => store.getState().stop();
  }, [token, store]);

  // Back online or awake: register again now (not after JsSIP's back-off). The window's `online`; the
  // page shown again after a long hide or a freeze (`visibilitychange`, Page Lifecycle `resume`: a laptop
  // lid, a suspended tab), when the phone is not registered or was hidden over a minute (its socket may
  // have died silently); Electron's resume / unlock / network change through the bridge.
  useEffect(() => {
    const again = (reason: string) => void store.getState().reconnectNow(reason);
    const onOnline = () => again('online');
    let hiddenAt: number | null = null;
    const onVisibility = () => {
      if (document.visibilityState === 'hidden') {
        hiddenAt = Date.now();
        return;
      }
      const long = hiddenAt !== null && Date.now() - hiddenAt > 60_000;
      hiddenAt = null;
      if (long || store.getState().registration !== 'registered') again('visible');
    };
    const onResume = () => again('resume');
    window.addEventListener('online', onOnline);
    document.addEventListener('visibilitychange', onVisibility);
    document.addEventListener('resume', onResume);
    const off = bridge?.onReconnectNow?.((reason) => again(reason));
    return () => {
      window.removeEventListener('online', onOnline);
      document.removeEventListener('visibilitychange', onVisibility);
      document.removeEventListener('resume', onResume);
      off?.();
    };
  }, [bridge, store]);

  // The ring: audible (WebAudio) while the call rings; the contact opens in the context panel.
  const ringing = call?.state === 'ringing';
  useEffect(() => {
    if (!ringing) return;
    return startRingtone();
  }, [ringing]);
  // A new call's session (ringing, or a customer an attended transfer brought here) opens in the workstation.
  const live = call !== null && call.state !== 'ended';
  useEffect(() => {
    if (live && sessionId) void openSession(sessionId);
  }, [live, sessionId, openSession]);

  // Hung up: the server closed the SP session (wrap-up `resolved`, after-call work per routing config);
  // the conversation shows it closed, in the customer's history.
  // Answered (the server accepted the offer) or hung up: the open conversation is read again.
  const phase = call?.state === 'active' || call?.state === 'ended' ? call.state : null;
  const refreshOpen = useWorkstation((s) => s.refreshOpen);
  useEffect(() => {
    if (!phase || !sessionId) return;
    void refreshOpen(sessionId);
    // JsSIP ends the call when it sends the BYE; the server closes the session when Kamailio relays it,
    // a moment later: read it again then.
    const timers = [1000, 3000].map((ms) => setTimeout(() => void refreshOpen(sessionId), ms));
    return () => timers.forEach(clearTimeout);
  }, [phase, sessionId, refreshOpen]);

  // The server closed the call's contact while the phone still has the call up (the call was lost and
  // the server ended it, the contact was closed here, an erasure): hang up, no dead call left on the
  // line. Learnt through the call's contact in the workstation (it opens when the phone rings), or its
  // row in the agent's list (below).
  const closedOnServer = summary?.status === 'closed' || detail?.status === 'closed';
  const talking = call?.state === 'active' || call?.state === 'connecting';
  useEffect(() => {
    if (talking && closedOnServer && sessionId) store.getState().sessionClosed(sessionId);
  }, [talking, closedOnServer, sessionId, store]);
  // The agent has since opened another conversation: the call's row leaving their list (`queue:remove`)
  // is the sign. It also leaves when the call was transferred (the colleague has it), so the session's
  // status is read: only `closed` hangs up.
  // Asked whenever the row is gone (once listed for this call), the contact not shown and the call up —
  // not only on the render the row left: it may leave while the call's contact is shown and the agent
  // switch away before its re-read (review4), or an earlier answer be dropped by another change.
  const listed = summary !== null;
  const listedCall = useRef<string | null>(null);
  const showing = detail !== null;
  useEffect(() => {
    if (listed && sessionId) listedCall.current = sessionId;
    if (!talking || !sessionId || !token || listed || listedCall.current !== sessionId || showing) return;
    let current = true;
    let timer: ReturnType<typeof setTimeout> | null = null;
    // No usable answer (the server restarting, a network blip): asked again a few times, so a dead call
    // is not left on the line for it; a 4xx (not shown to this agent) is final.
    const ask = (attempt: number) =>
      void fetchSessionStatus(token, sessionId).then((status) => {
        if (!current) return;
        if (status === 'closed') store.getState().sessionClosed(sessionId);
        else if (status === undefined && attempt < SESSION_STATUS_RETRY_MS.length)
          timer = setTimeout(() => ask(attempt + 1), SESSION_STATUS_RETRY_MS[attempt]);
      });
    ask(0);
    return () => {
      current = false;
      if (timer !== null) clearTimeout(timer);
    };
  }, [listed, talking, sessionId, token, showing, store]);

  const video = call?.video ?? false;
  useEffect(() => {
    // A video call plays its sound through the video element: the audio element stays silent then.
    if (audio.current) audio.current.srcObject = video ? null : phone.remoteStream;
    if (remoteVideo.current) remoteVideo.current.srcObject = video ? phone.remoteStream : null;
    if (localVideo.current) localVideo.current.srcObject = video ? phone.localStream : null;
  }, [phone.remoteStream, phone.localStream, video]);

  const active = call?.state === 'active';
  useEffect(() => {
    if (!active) return;
    const timer = setInterval(() => setClock(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [active]);

  const rawCustomer = detail?.context.customer.name ?? summary?.customerName ?? null;
  const customer = rawCustomer === null ? null : nameOf(rawCustomer);
  const tier = detail?.tier ?? summary?.tier ?? null;
  const group = detail?.skillGroup ?? summary?.skillGroup ?? null;
  const previous = detail?.context.previousSessions ?? null;

  // No telephony on this server (no SIP WebSocket address): no dock at all, nothing to cover the desk.
  if (!call && phone.error === 'NO_WEBSOCKET') return null;

  return (
    <section className={`softphone softphone--${call?.state ?? 'idle'}`} aria-label={t('title')} data-testid="softphone">
      <audio ref={audio} autoPlay data-testid="softphone-audio" />
      <header className="softphone__bar">
        <span className={`softphone__dot softphone__dot--${phone.registration}`} aria-hidden />
        <span data-testid="softphone-registration" data-state={phone.registration}>
          {t(`registration.${phone.registration}`)}
        </span>
        {phone.aor ? <code className="muted small">{phone.aor}</code> : null}
      </header>
      {phone.error ? (
        <p className="softphone__error" role="alert">
          {t(`error.${phone.error as 'CREDENTIALS'}`, { defaultValue: phone.error })}
        </p>
      ) : null}
      {call ? (
        <div className="softphone__call" data-testid="softphone-call" data-state={call.state} data-session={call.sessionId ?? ''}>
          <h3 role={ringing ? 'alert' : undefined}>{ringing ? t('incoming') : t(`state.${call.state}`)}</h3>
          <dl className="softphone__who">
            <dt>{t('customer')}</dt>
            <dd data-testid="softphone-customer" dir="auto">
              {customer ?? t('unknownContact')}
            </dd>
            <dt>{t('caller')}</dt>
            <dd dir="auto">{call.caller || '—'}</dd>
            {tier ? (
              <>
                <dt>{t('tier')}</dt>
                <dd>
                  <span className={`tier tier--${tier}`} data-testid="softphone-tier">
                    {t(`tierName.${tier}`)}
                  </span>
                </dd>
              </>
            ) : null}
            {group ? (
              <>
                <dt>{t('skillGroup')}</dt>
                <dd>{group}</dd>
              </>
            ) : null}
            {previous ? (
              <>
                <dt>{t('history')}</dt>
                <dd data-testid="softphone-history">
                  {previous.length === 0 ? t('firstContact') : previous.slice(0, 3).map((p) => <code key={p.id}>{p.id} </code>)}
                </dd>
              </>
            ) : null}
            {call.sessionId ? (
              <>
                <dt>{t('session')}</dt>
                <dd>
                  <code>{call.sessionId}</code>
                </dd>
              </>
            ) : null}
          </dl>
          {active && call.answeredAt ? (
            <p className="softphone__timer" aria-label={t('timer')} data-testid="softphone-timer">
              {callClock(clock - call.answeredAt)}
              {call.held ? <span className="softphone__flag"> · {t('held')}</span> : null}
              {call.muted ? <span className="softphone__flag"> · {t('muted')}</span> : null}
            </p>
          ) : null}
          {video ? (
            <div className="softphone__video" data-testid="softphone-video">
              <video ref={remoteVideo} autoPlay playsInline aria-label={t('video.remote')} data-testid="softphone-remote-video" />
              <video
                ref={localVideo}
                autoPlay
                playsInline
                muted
                className="softphone__self"
                aria-label={t('video.local')}
                data-testid="softphone-local-video"
              />
            </div>
          ) : null}
          <div className="softphone__actions">
            {ringing ? (
              <>
                <button type="button" onClick={() => phone.answer()} data-testid="softphone-answer">
                  {t('answer')}
                </button>
                <button type="button" className="danger" onClick={() => phone.hangUp()} data-testid="softphone-decline">
                  {t('decline')}
                </button>
              </>
            ) : null}
            {active ? (
              <>
                <button
                  type="button"
                  className="ghost"
                  aria-pressed={call.muted}
                  onClick={() => phone.setMuted(!call.muted)}
                  data-testid="softphone-mute"
                >
                  {call.muted ? t('unmute') : t('mute')}
                </button>
                <button
                  type="button"
                  className="ghost"
                  aria-pressed={call.held}
                  onClick={() => phone.setHeld(!call.held)}
                  data-testid="softphone-hold"
                >
                  {call.held ? t('resume') : t('hold')}
                </button>
                <button
                  type="button"
                  className="ghost"
                  aria-expanded={keypad}
                  onClick={() => setKeypad(!keypad)}
                  data-testid="softphone-keypad-toggle"
                >
                  {t('keypad')}
                </button>
              </>
            ) : null}
            {call.state === 'active' || call.state === 'connecting' ? (
              <button type="button" className="danger" onClick={() => phone.hangUp()} data-testid="softphone-hangup">
                {t('hangUp')}
              </button>
            ) : null}
            {call.state === 'ended' ? (
              <button type="button" className="ghost" onClick={() => phone.dismiss()} data-testid="softphone-dismiss">
                {t('close')}
              </button>
            ) : null}
          </div>
          {active && keypad ? (
            <div className="softphone__keypad" role="group" aria-label={t('keypad')}>
              {KEYS.map((k) => (
                <button type="button" className="ghost" key={k} onClick={() => phone.sendDtmf(k)} data-testid={`softphone-key-${k}`}>
                  {k}
                </button>
              ))}
            </div>
          ) : null}
          {call.dtmf ? (
            <p className="muted small" data-testid="softphone-dtmf">
              {t('sent', { digits: call.dtmf })}
            </p>
          ) : null}
          {active && !call.consult ? (
            <form
              className="softphone__transfer"
              onSubmit={(e) => {
                e.preventDefault();
                if (transferTo.trim()) phone.transfer(transferTo.trim());
              }}
            >
              <input
                aria-label={t('transferTo')}
                placeholder={t('transferTo')}
                value={transferTo}
                onChange={(e) => setTransferTo(e.target.value)}
                data-testid="softphone-transfer-to"
              />
              <button
                type="submit"
                className="ghost"
                disabled={!transferTo.trim() || call.transfer?.state === 'pending'}
                data-testid="softphone-transfer-blind"
              >
                {t('transferGo')}
              </button>
              <button
                type="button"
                className="ghost"
                disabled={!transferTo.trim()}
                onClick={() => phone.consult(transferTo.trim())}
                data-testid="softphone-consult"
              >
                {t('consultGo')}
              </button>
            </form>
          ) : null}
          {active && call.consult ? (
            <div className="softphone__consult" data-testid="softphone-consult-state" data-state={call.consult.state}>
              <p className="small">{t(`consult.${call.consult.state}`, { target: call.consult.target })}</p>
              <div className="softphone__actions">
                <button
                  type="button"
                  onClick={() => phone.completeTransfer()}
                  disabled={call.consult.state !== 'active' || call.transfer?.state === 'pending'}
                  data-testid="softphone-complete-transfer"
                >
                  {t('completeTransfer')}
                </button>
                <button type="button" className="ghost" onClick={() => phone.cancelConsult()} data-testid="softphone-cancel-consult">
                  {t('cancelConsult')}
                </button>
              </div>
            </div>
          ) : null}
          {call.transfer ? (
            <p
              className={call.transfer.state === 'failed' ? 'softphone__error' : 'muted small'}
              role={call.transfer.state === 'pending' ? undefined : 'status'}
              data-testid="softphone-transfer-state"
              data-state={call.transfer.state}
              data-code={call.transfer.code ?? ''}
            >
              {call.transfer.state === 'failed' && call.transfer.code
                ? t('transferState.failedCode', { target: call.transfer.target, code: call.transfer.code })
                : t(`transferState.${call.transfer.state}`, { target: call.transfer.target })}
            </p>
          ) : null}
          {call.state === 'ended' && call.endReason === 'SESSION_CLOSED' ? (
            <p className="muted small" role="status" data-testid="softphone-closed-by-server">
              {t('closedByServer')}
            </p>
          ) : null}
          {call.state === 'ended' && call.sessionId ? <p className="muted small">{t('wrapUp')}</p> : null}
        </div>
      ) : null}
    </section>
  );
}
