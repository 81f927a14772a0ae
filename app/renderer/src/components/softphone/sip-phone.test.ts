import { describe, expect, it } from 'vitest';
import type { VoiceCredentials } from '../../../../../common/api/voice';
import { createSoftphoneStore } from '../../stores/softphone';
import { createSipPhone, defaultPickUri, type JsSipApi, type PhoneSnapshot, type SipCallLike } from './sip-phone';
import { callClock } from './call-clock';

type Listener = (...args: any[]) => void;

class Emitter {
  listeners = new Map<string, Listener[]>();
  on(event: string, fn: (...args: never[]) => void) {
    this.listeners.set(event, [...(this.listeners.get(event) ?? []), fn as Listener]);
  }
  fire(event: string, ...args: unknown[]) {
    for (const fn of this.listeners.get(event) ?? []) fn(...args);
  }
}

class FakeCall extends Emitter implements SipCallLike {
  direction = 'incoming' as const;
  calls: string[] = [];
  answered: unknown[] = [];
  referOptions: Record<string, unknown> | undefined;
  answer(o?: unknown) {
    this.calls.push('answer');
    this.answered.push(o);
  }
  terminate(o?: { status_code?: number }) {
    this.calls.push(`terminate:${o?.status_code ?? ''}`);
  }
  mute() {
    this.calls.push('mute');
    this.fire('muted');
  }
  unmute() {
    this.calls.push('unmute');
    this.fire('unmuted');
  }
  hold() {
    this.calls.push('hold');
    this.fire('hold');
    return true;
  }
  unhold() {
    this.calls.push('unhold');
    this.fire('unhold');
    return true;
  }
  sendDTMF(tones: string, o?: { transportType?: string }) {
    this.calls.push(`dtmf:${tones}:${o?.transportType}`);
  }
  refer(target: string, o?: Record<string, unknown>) {
    this.calls.push(`refer:${target}`);
    this.referOptions = o;
  }
}

/** A fake JsSIP: records every UA made with its config; the test drives their events. */
function fakeJsSip() {
  const uas: (Emitter & {
    config: Record<string, unknown>;
    started: boolean;
    stopped: boolean;
    outgoing: { target: string; call: FakeCall }[];
  })[] = [];
  const api: JsSipApi = {
    UA: class extends Emitter {
      started = false;
      stopped = false;
      outgoing: { target: string; call: FakeCall }[] = [];
      call(target: string) {
        const call = new FakeCall();
        this.outgoing.push({ target, call });
        return call;
      }
      constructor(public config: Record<string, unknown>) {
        super();
        uas.push(this);
      }
      start() {
        this.started = true;
      }
      stop() {
        this.stopped = true;
      }
      register() {}
      isRegistered() {
        return false;
      }
      isConnected() {
        return true;
      }
    } as unknown as JsSipApi['UA'],
    WebSocketInterface: class {
      constructor(public url: string) {}
    } as unknown as JsSipApi['WebSocketInterface'],
  };
  return { api, uas };
}

const creds = (n: number, ttl = 43_200): VoiceCredentials => ({
  username: `${1_800_000_000 + n}:agent1`,
  password: `pw${n}`,
  ttl,
  expiresAt: '2027-01-01T00:00:00.000Z',
  aor: 'sip:agent1@127.0.0.1',
  realm: '127.0.0.1',
  uris: ['sip:127.0.0.1:5060', 'ws://127.0.0.1:8088'],
});

const invite = (session: string | undefined, display = 'Caller') => ({
  getHeader: (name: string) => (name === 'X-Huiliu-Session' ? session : undefined),
  from: { display_name: display, uri: { user: '+8613800001' } },
});

function setup(options: { ttl?: number; failFirst?: boolean; camera?: boolean } = {}) {
  const { api, uas } = fakeJsSip();
  const snapshots: PhoneSnapshot[] = [];
  const timers: { fn: () => void; ms: number; cleared: boolean }[] = [];
  let fetched = 0;
  let clock = 1_000_000;
  const phone = createSipPhone({
    jssip: api,
    fetchCredentials: async () => {
      fetched++;
      if (options.failFirst && fetched === 1) throw new Error('VOICE_CREDENTIALS_503');
      return creds(fetched, options.ttl);
    },
    onChange: (s) => snapshots.push(s),
    pickUri: (u) => defaultPickUri(u, false),
    hasCamera: async () => options.camera ?? false,
    now: () => clock,
    setTimer: (fn, ms) => {
      const t = { fn, ms, cleared: false };
      timers.push(t);
      return t;
    },
    clearTimer: (h) => {
      (h as { cleared: boolean }).cleared = true;
    },
  });
  return {
    phone,
    uas,
    timers,
    snapshots,
    fetched: () => fetched,
    tick: (ms: number) => {
      clock += ms;
    },
  };
}

describe('the softphone’s SIP phone (JsSIP injected)', () => {
  it('registers with the server-issued credentials over the WebSocket URI and shows the registration state', async () => {
    const t = setup();
    await t.phone.start();
    expect(t.uas).toHaveLength(1);
    const ua = t.uas[0]!;
    expect(ua.started).toBe(true);
    expect(ua.config).toMatchObject({
      uri: 'sip:agent1@127.0.0.1',
      authorization_user: '1800000001:agent1',
      password: 'pw1',
      register: true,
    });
    expect((ua.config['sockets'] as { url: string }[])[0]!.url).toBe('ws://127.0.0.1:8088');
    expect(t.phone.snapshot().registration).toBe('connecting');
    ua.fire('registered');
    expect(t.phone.snapshot()).toMatchObject({ registration: 'registered', aor: 'sip:agent1@127.0.0.1', error: null });
    ua.fire('registrationFailed', { cause: 'Rejected' });
    expect(t.phone.snapshot()).toMatchObject({ registration: 'failed', error: 'REGISTRATION' });
  });

  it('re-fetches the credentials at 80 % of their lifetime and registers a new UA with them', async () => {
    const t = setup({ ttl: 100 });
    await t.phone.start();
    expect(t.timers.at(-1)!.ms).toBe(80_000);
    t.timers.at(-1)!.fn();
    await Promise.resolve();
    await Promise.resolve();
    expect(t.fetched()).toBe(2);
    expect(t.uas).toHaveLength(2);
    expect(t.uas[0]!.stopped).toBe(true);
    expect(t.uas[1]!.config['authorization_user']).toBe('1800000002:agent1');
    // Events of the old UA no longer count.
    t.uas[0]!.fire('registrationFailed');
    expect(t.phone.snapshot().error).toBeNull();
  });

  it('says when the server refuses credentials and tries again later', async () => {
    const t = setup({ failFirst: true });
    await t.phone.start();
    expect(t.phone.snapshot()).toMatchObject({ registration: 'failed', error: 'CREDENTIALS' });
    expect(t.uas).toHaveLength(0);
    t.timers.at(-1)!.fn();
    await new Promise((r) => setTimeout(r, 0));
    expect(t.uas).toHaveLength(1);
  });

  it('rings with the SP session Kamailio named, answers, mutes, holds, sends DTMF, transfers and hangs up', async () => {
    const t = setup();
    await t.phone.start();
    const ua = t.uas[0]!;
    ua.fire('registered');
    const call = new FakeCall();
    ua.fire('newRTCSession', { session: call, originator: 'remote', request: invite('SP179609520359282041') });
    expect(t.phone.snapshot().call).toMatchObject({
      sessionId: 'SP179609520359282041',
      caller: 'Caller',
      state: 'ringing',
      answeredAt: null,
    });
    // A second call while one rings: busy (voice capacity 1).
    const second = new FakeCall();
    ua.fire('newRTCSession', { session: second, originator: 'remote', request: invite('SP179609520359282042') });
    expect(second.calls).toEqual(['terminate:486']);

    t.phone.answer();
    expect(call.calls).toContain('answer');
    call.fire('accepted');
    t.tick(50);
    call.fire('confirmed');
    expect(t.phone.snapshot().call).toMatchObject({ state: 'active', answeredAt: 1_000_050 });
    t.phone.setMuted(true);
    t.phone.setHeld(true);
    expect(t.phone.snapshot().call).toMatchObject({ muted: true, held: true });
    t.phone.setHeld(false);
    t.phone.setMuted(false);
    t.phone.sendDtmf('5');
    t.phone.sendDtmf('#');
    expect(() => t.phone.sendDtmf('x')).toThrow('INVALID_DTMF');
    expect(t.phone.snapshot().call).toMatchObject({ muted: false, held: false, dtmf: '5#' });
    t.phone.transfer('agent2');
    expect(call.calls).toContain('refer:sip:agent2@127.0.0.1');
    expect(t.phone.snapshot().call!.transfer).toEqual({ target: 'sip:agent2@127.0.0.1', state: 'pending' });
    t.phone.hangUp();
    expect(call.calls.at(-1)).toBe('terminate:');
    call.fire('ended', { cause: 'Terminated' });
    expect(t.phone.snapshot().call).toMatchObject({ state: 'ended', endReason: 'Terminated' });
    expect(call.calls).toEqual([
      'answer',
      'mute',
      'hold',
      'unhold',
      'unmute',
      'dtmf:5:RFC2833',
      'dtmf:#:RFC2833',
      'refer:sip:agent2@127.0.0.1',
      'terminate:',
    ]);
  });

  it('hangs up an answered call whose SP session the server closed (a lost call), and leaves other calls alone', async () => {
    const t = setup();
    await t.phone.start();
    const ua = t.uas[0]!;
    ua.fire('registered');
    const call = new FakeCall();
    ua.fire('newRTCSession', { session: call, originator: 'remote', request: invite('SP179609520359282041') });
    // Ringing: a closed session's ringing call is the caller's to cancel (and Kamailio's), not hung up here.
    t.phone.sessionClosed('SP179609520359282041');
    expect(call.calls).toEqual([]);
    t.phone.answer();
    call.fire('confirmed');
    // Another session closing changes nothing.
    t.phone.sessionClosed('SP179609520359282099');
    expect(call.calls).toEqual(['answer']);
    t.phone.sessionClosed('SP179609520359282041');
    expect(call.calls).toEqual(['answer', 'terminate:']);
    call.fire('ended', { cause: 'Terminated' });
    expect(t.phone.snapshot().call).toMatchObject({ state: 'ended', endReason: 'SESSION_CLOSED' });
    // Ended: nothing more to hang up; the next call's own end keeps its own reason.
    t.phone.sessionClosed('SP179609520359282041');
    expect(call.calls).toEqual(['answer', 'terminate:']);
    const next = new FakeCall();
    ua.fire('newRTCSession', { session: next, originator: 'remote', request: invite('SP179609520359282042') });
    t.phone.answer();
    next.fire('confirmed');
    next.fire('ended', { cause: 'BYE' });
    expect(t.phone.snapshot().call).toMatchObject({ state: 'ended', endReason: 'BYE' });
  });

  it('blind transfer: hangs up its own leg when the customer’s NOTIFY says 200, and shows where the customer went', async () => {
    const t = setup();
    await t.phone.start();
    const call = new FakeCall();
    t.uas[0]!.fire('newRTCSession', { session: call, originator: 'remote', request: invite('SP179609520359282041') });
    t.phone.answer();
    call.fire('confirmed');
    t.phone.transfer('agent2');
    // A second click while the REFER is pending sends nothing more.
    t.phone.transfer('agent3');
    expect(call.calls.filter((c) => c.startsWith('refer'))).toEqual(['refer:sip:agent2@127.0.0.1']);
    const handlers = call.referOptions?.['eventHandlers'] as Record<string, (e?: unknown) => void>;
    handlers['trying']?.({ status_line: { status_code: 100 } });
    expect(call.calls).not.toContain('terminate:');
    handlers['accepted']!({ status_line: { status_code: 200, reason_phrase: 'OK' } });
    // Not inside the NOTIFY's handling (JsSIP answers it 200 after `accepted`): on the next tick.
    expect(call.calls).not.toContain('terminate:');
    t.timers.at(-1)!.fn();
    // Our BYE (RFC 5589 §6.1): the transferor leaves once the customer is with the target.
    expect(call.calls.at(-1)).toBe('terminate:');
    call.fire('ended', { cause: 'Terminated' });
    expect(t.phone.snapshot().call).toMatchObject({
      state: 'ended',
      transfer: { target: 'sip:agent2@127.0.0.1', state: 'accepted' },
    });
  });

  it('blind transfer refused (REFER 603) or failed (NOTIFY 486): the call stays active with us, with the SIP code', async () => {
    const t = setup();
    await t.phone.start();
    const call = new FakeCall();
    t.uas[0]!.fire('newRTCSession', { session: call, originator: 'remote', request: invite('SP179609520359282041') });
    t.phone.answer();
    call.fire('confirmed');
    t.phone.transfer('agent2');
    (call.referOptions?.['eventHandlers'] as Record<string, (e?: unknown) => void>)['requestFailed']!({
      response: { status_code: 603 },
      cause: 'Rejected',
    });
    expect(t.phone.snapshot().call).toMatchObject({
      state: 'active',
      transfer: { target: 'sip:agent2@127.0.0.1', state: 'failed', code: 603 },
    });
    expect(call.calls.some((c) => c.startsWith('terminate'))).toBe(false);
    // Try again (the form is back): the customer's new call to the target fails this time.
    t.phone.transfer('agent3');
    (call.referOptions?.['eventHandlers'] as Record<string, (e?: unknown) => void>)['failed']!({
      status_line: { status_code: '486', reason_phrase: 'Busy Here' },
    });
    expect(t.phone.snapshot().call).toMatchObject({
      state: 'active',
      transfer: { target: 'sip:agent3@127.0.0.1', state: 'failed', code: 486 },
    });
    expect(call.calls.filter((c) => c.startsWith('refer'))).toEqual(['refer:sip:agent2@127.0.0.1', 'refer:sip:agent3@127.0.0.1']);
    expect(call.calls.some((c) => c.startsWith('terminate'))).toBe(false);
  });

  it('asks again to resume when JsSIP refuses because the hold re-INVITE is still unanswered', async () => {
    const t = setup();
    await t.phone.start();
    const call = new FakeCall();
    t.uas[0]!.fire('newRTCSession', { session: call, originator: 'remote', request: invite('SP179609520359282041') });
    t.phone.answer();
    call.fire('confirmed');
    t.phone.setHeld(true);
    let busy = true;
    call.unhold = () => {
      call.calls.push('unhold?');
      if (busy) return false;
      call.fire('unhold');
      return true;
    };
    t.phone.setHeld(false);
    expect(t.phone.snapshot().call!.held).toBe(true);
    busy = false;
    t.timers.at(-1)!.fn();
    expect(t.phone.snapshot().call!.held).toBe(false);
    expect(call.calls.filter((c) => c === 'unhold?')).toHaveLength(2);
  });

  it('declines a ringing call with 486 (the router offers the next agent) and ignores a session header it cannot trust', async () => {
    const t = setup();
    await t.phone.start();
    const call = new FakeCall();
    t.uas[0]!.fire('newRTCSession', { session: call, originator: 'remote', request: invite('SP1; drop table', '') });
    expect(t.phone.snapshot().call).toMatchObject({ sessionId: null, caller: '+8613800001' });
    t.phone.hangUp();
    expect(call.calls).toEqual(['terminate:486']);
  });

  it('registers again at once on reconnectNow (network back, wake), but not in the middle of a call', async () => {
    const t = setup();
    await t.phone.start();
    await t.phone.reconnectNow('online');
    expect(t.uas).toHaveLength(2);
    const call = new FakeCall();
    t.uas[1]!.fire('newRTCSession', { session: call, originator: 'remote', request: invite('SP179609520359282041') });
    await t.phone.reconnectNow('resume');
    expect(t.uas).toHaveLength(2);
    t.phone.stop();
    expect(call.calls).toContain('terminate:');
    expect(t.uas[1]!.stopped).toBe(true);
    expect(t.phone.snapshot()).toMatchObject({ registration: 'off', call: null });
  });

  it('feeds the softphone store, which starts one phone per token', async () => {
    const t = setup();
    let made = 0;
    const store = createSoftphoneStore({
      makePhone: () => {
        made++;
        return t.phone;
      },
    });
    await store.getState().start('tok');
    await store.getState().start('tok');
    expect(made).toBe(1);
    store.getState().stop();
    expect(store.getState().registration).toBe('off');
  });

  it('picks wss for an https page when the edge has one', () => {
    expect(defaultPickUri(['sip:h:5060', 'ws://h:8088', 'wss://h:4443'], true)).toBe('wss://h:4443');
    expect(defaultPickUri(['sip:h:5060', 'ws://h:8088', 'wss://h:4443'], false)).toBe('ws://h:8088');
    expect(defaultPickUri(['sip:h:5060'], true)).toBeNull();
  });

  it('shows the call timer as m:ss, and h:mm:ss from an hour on', () => {
    expect(callClock(0)).toBe('0:00');
    expect(callClock(65_400)).toBe('1:05');
    expect(callClock(3_723_000)).toBe('1:02:03');
  });

  it('attended transfer: holds the customer, consults a colleague, then REFERs the customer with Replaces and leaves', async () => {
    const t = setup();
    await t.phone.start();
    const ua = t.uas[0]!;
    ua.fire('registered');
    const customer = new FakeCall();
    ua.fire('newRTCSession', { session: customer, originator: 'remote', request: invite('SP179609520359282041') });
    t.phone.answer();
    customer.fire('confirmed');
    t.phone.consult('agent2');
    expect(customer.calls).toContain('hold');
    expect(ua.outgoing.map((o) => o.target)).toEqual(['sip:agent2@127.0.0.1']);
    expect(t.phone.snapshot().call).toMatchObject({ held: true, consult: { target: 'sip:agent2@127.0.0.1', state: 'calling' } });
    // Not before the colleague answered.
    t.phone.completeTransfer();
    expect(customer.calls.some((c) => c.startsWith('refer'))).toBe(false);
    const consult = ua.outgoing[0]!.call;
    consult.fire('confirmed');
    expect(t.phone.snapshot().call?.consult?.state).toBe('active');
    t.phone.completeTransfer();
    expect(customer.calls).toContain('refer:sip:agent2@127.0.0.1');
    expect(customer.referOptions?.['replaces']).toBe(consult);
    expect(t.phone.snapshot().call?.transfer).toEqual({ target: 'sip:agent2@127.0.0.1', state: 'pending', attended: true });
    // The colleague's phone ends the replaced consult; the transfer is still under way.
    consult.fire('ended', { cause: 'Terminated' });
    expect(t.phone.snapshot().call?.consult?.state).toBe('active');
    // NOTIFY 200: the customer talks to agent2; our leg ends (BYE).
    (customer.referOptions?.['eventHandlers'] as { accepted(): void }).accepted();
    t.timers.at(-1)!.fn();
    expect(customer.calls.at(-1)).toBe('terminate:');
    expect(t.phone.snapshot().call?.transfer?.state).toBe('accepted');
    customer.fire('ended', { cause: 'Terminated' });
    expect(t.phone.snapshot().call?.state).toBe('ended');
    expect(consult.calls).not.toContain('terminate:');
  });

  it('cancels a consult: hangs it up and resumes the customer', async () => {
    const t = setup();
    await t.phone.start();
    const ua = t.uas[0]!;
    const customer = new FakeCall();
    ua.fire('newRTCSession', { session: customer, originator: 'remote', request: invite('SP179609520359282041') });
    t.phone.answer();
    customer.fire('confirmed');
    t.phone.consult('sip:agent3@127.0.0.1');
    const consult = ua.outgoing[0]!.call;
    t.phone.cancelConsult();
    expect(consult.calls).toContain('terminate:');
    expect(customer.calls).toContain('unhold');
    expect(t.phone.snapshot().call).toMatchObject({ held: false, consult: null, transfer: null, state: 'active' });
  });

  it('takes an INVITE with Replaces for its call (the customer a colleague transferred) and answers it at once', async () => {
    const t = setup();
    await t.phone.start();
    const ua = t.uas[0]!;
    const consult = new FakeCall();
    ua.fire('newRTCSession', { session: consult, originator: 'remote', request: invite(undefined, 'agent1') });
    t.phone.answer();
    consult.fire('confirmed');
    expect(t.phone.snapshot().call?.sessionId).toBeNull();
    const replacing = new FakeCall();
    const withReplaces = {
      getHeader: (n: string) =>
        n === 'X-Huiliu-Session' ? 'SP179609520359282041' : n === 'Replaces' ? 'abc;to-tag=1;from-tag=2' : undefined,
      from: { display_name: 'Customer' },
      body: 'v=0\r\nm=audio 4000 RTP/AVP 0\r\n',
    };
    consult.fire('replaces', {
      accept: () => ua.fire('newRTCSession', { session: replacing, originator: 'remote', request: withReplaces }),
    });
    expect(replacing.calls).toContain('answer');
    expect(replacing.calls.some((c) => c.startsWith('terminate'))).toBe(false);
    expect(t.phone.snapshot().call).toMatchObject({ sessionId: 'SP179609520359282041', caller: 'Customer', state: 'connecting' });
    // JsSIP ends the replaced consult: that is no longer our call.
    consult.fire('ended', { cause: 'Terminated' });
    replacing.fire('confirmed');
    expect(t.phone.snapshot().call?.state).toBe('active');
  });

  it('answers with the camera when the caller offers video and there is one; audio only otherwise', async () => {
    const video = 'v=0\r\nm=audio 4000 RTP/SAVPF 111\r\nm=video 4002 RTP/SAVPF 96\r\n';
    for (const [camera, body, expected] of [
      [true, video, true],
      [false, video, false],
      [true, 'v=0\r\nm=audio 4000 RTP/AVP 0\r\nm=video 0 RTP/AVP 96\r\n', false],
    ] as const) {
      const t = setup({ camera });
      await t.phone.start();
      const call = new FakeCall();
      t.uas[0]!.fire('newRTCSession', { session: call, originator: 'remote', request: { ...invite('SP179609520359282041'), body } });
      t.phone.answer();
      await new Promise((r) => setTimeout(r, 0));
      expect(call.answered[0]).toMatchObject({ mediaConstraints: { audio: true, video: expected } });
      expect(t.phone.snapshot().call?.video).toBe(expected);
    }
  });
});
