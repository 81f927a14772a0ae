import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import type { ReconnectReason } from '../../common/ipc/desktop-bridge';
import { networkFingerprint, watchReconnectTriggers } from './reconnect';

function setup() {
  const powerMonitor = new EventEmitter();
  const net = { online: true, fingerprint: 'en0=192.168.1.20' };
  const signals: ReconnectReason[] = [];
  let t = 0;
  let tick: (() => void) | null = null;
  const cleared: unknown[] = [];
  const watch = watchReconnectTriggers({
    powerMonitor,
    isOnline: () => net.online,
    networkFingerprint: () => net.fingerprint,
    signal: (r) => signals.push(r),
    now: () => t,
    setInterval: (fn) => ((tick = fn), 'timer'),
    clearInterval: (h) => void cleared.push(h),
  });
  return {
    powerMonitor,
    net,
    signals,
    watch,
    cleared,
    advance: (ms: number) => {
      t += ms;
      tick!();
    },
  };
}

describe('reconnect after sleep/resume and network change', () => {
  it('signals the renderer on resume and on screen unlock', () => {
    const s = setup();
    s.powerMonitor.emit('resume');
    s.advance(5000);
    s.powerMonitor.emit('unlock-screen');
    expect(s.signals).toEqual(['resume', 'unlock']);
  });

  it('signals when the network comes back, not while it is down', () => {
    const s = setup();
    s.net.online = false;
    s.advance(2000);
    s.advance(2000);
    expect(s.signals).toEqual([]);
    s.net.online = true;
    s.advance(2000);
    expect(s.signals).toEqual(['online']);
  });

  it('signals when the machine’s addresses change (Wi-Fi to cable, VPN up)', () => {
    const s = setup();
    s.advance(2000);
    expect(s.signals).toEqual([]);
    s.net.fingerprint = 'en0=192.168.1.20,utun3=10.8.0.2';
    s.advance(2000);
    expect(s.signals).toEqual(['network-change']);
  });

  it('coalesces a resume and the network flip it causes into one signal', () => {
    const s = setup();
    s.powerMonitor.emit('resume');
    s.net.fingerprint = 'en0=192.168.1.77';
    s.advance(500);
    expect(s.signals).toEqual(['resume']);
  });

  it('removes its listeners and timer on close', () => {
    const s = setup();
    s.watch.close();
    expect(s.powerMonitor.listenerCount('resume')).toBe(0);
    expect(s.powerMonitor.listenerCount('unlock-screen')).toBe(0);
    expect(s.cleared).toEqual(['timer']);
  });

  it('fingerprints external addresses only', () => {
    const fp = networkFingerprint({
      lo: [{ address: '127.0.0.1', internal: true, family: 'IPv4' }],
      en0: [
        { address: 'fe80::1', internal: false, family: 'IPv6' },
        { address: '192.168.1.20', internal: false, family: 'IPv4' },
      ],
    });
    expect(fp).toBe('en0=192.168.1.20');
  });
});
