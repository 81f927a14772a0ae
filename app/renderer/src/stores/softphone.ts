import { createStore } from 'zustand/vanilla';
import type { PhoneSnapshot, SipPhone } from '../components/softphone/sip-phone';

/**
 * The softphone's state for the UI (issue 18): the SIP phone's snapshot (registration, the call) plus
 * the remote media stream, and the actions the softphone panel calls. The phone itself
 * (components/softphone/sip-phone.ts) is made by `makePhone` when the agent signs in.
 */
export interface SoftphoneState extends PhoneSnapshot {
  remoteStream: MediaStream | null;
  /** The agent's camera preview of a video call. */
  localStream: MediaStream | null;
  /** Signs in the phone (fetch credentials, register) for this bearer token; a second call with the same token does nothing. */
  start(token: string): Promise<void>;
  stop(): void;
  reconnectNow(reason: string): Promise<void>;
  answer(): void;
  hangUp(): void;
  /** The server closed this SP session: its call, if still up here, hangs up (`SipPhone.sessionClosed`). */
  sessionClosed(sessionId: string): void;
  /** Forgets an ended call (the panel's "close"). */
  dismiss(): void;
  setMuted(muted: boolean): void;
  setHeld(held: boolean): void;
  sendDtmf(digit: string): void;
  transfer(target: string): void;
  /** Attended transfer: hold the customer and call `target` (consult). */
  consult(target: string): void;
  /** REFER with Replaces: the customer goes to the consulted agent. */
  completeTransfer(): void;
  /** Hang up the consult call and resume the customer. */
  cancelConsult(): void;
}

export interface SoftphoneDeps {
  /** Builds the phone for a token; `emit` and `remote` feed this store. */
  makePhone(
    token: string,
    emit: (s: PhoneSnapshot) => void,
    remote: (stream: MediaStream | null) => void,
    local?: (stream: MediaStream | null) => void,
  ): SipPhone;
}

export function createSoftphoneStore(deps: SoftphoneDeps) {
  let phone: SipPhone | null = null;
  let tokenInUse: string | null = null;
  return createStore<SoftphoneState>()((set, get) => ({
    registration: 'off',
    aor: null,
    call: null,
    error: null,
    remoteStream: null,
    localStream: null,
    async start(token) {
      if (phone && tokenInUse === token) return;
      phone?.stop();
      tokenInUse = token;
      phone = deps.makePhone(
        token,
        (s) => set({ registration: s.registration, aor: s.aor, call: s.call, error: s.error }),
        (remoteStream) => set({ remoteStream }),
        (localStream) => set({ localStream }),
      );
      await phone.start();
    },
    stop() {
      phone?.stop();
      phone = null;
      tokenInUse = null;
      set({ registration: 'off', call: null, remoteStream: null, localStream: null });
    },
    async reconnectNow(reason) {
      await phone?.reconnectNow(reason);
    },
    answer: () => phone?.answer(),
    hangUp: () => phone?.hangUp(),
    sessionClosed: (sessionId) => phone?.sessionClosed(sessionId),
    dismiss() {
      if (get().call?.state === 'ended') set({ call: null });
    },
    setMuted: (muted) => phone?.setMuted(muted),
    setHeld: (held) => phone?.setHeld(held),
    sendDtmf: (digit) => phone?.sendDtmf(digit),
    transfer: (target) => phone?.transfer(target),
    consult: (target) => phone?.consult(target),
    completeTransfer: () => phone?.completeTransfer(),
    cancelConsult: () => phone?.cancelConsult(),
  }));
}

export type SoftphoneStore = ReturnType<typeof createSoftphoneStore>;
