import type { ReconnectReason } from '../../common/ipc/desktop-bridge';

/** Electron's powerMonitor, the part used here. */
export interface PowerMonitorLike {
  on(event: 'resume' | 'unlock-screen', listener: () => void): unknown;
  removeListener(event: 'resume' | 'unlock-screen', listener: () => void): unknown;
}

export interface ReconnectTriggerDeps {
  powerMonitor: PowerMonitorLike;
  /** Electron's `net.isOnline()`. */
  isOnline(): boolean;
  /** Which addresses the machine has now (`networkFingerprint(os.networkInterfaces())`). */
  networkFingerprint(): string;
  /** Tells the renderer to reconnect its socket now (webContents.send on `reconnectNow`). */
  signal(reason: ReconnectReason): void;
  /** How often the network is looked at, ms (default 2,000). */
  pollMs?: number;
  /** Signals closer together than this are one (a resume also flips the network), ms (default 1,000). */
  coalesceMs?: number;
  now?: () => number;
  setInterval?: (fn: () => void, ms: number) => unknown;
  clearInterval?: (handle: unknown) => void;
}

interface InterfaceInfo {
  address: string;
  internal: boolean;
  family: string | number;
}

/**
 * The machine's external addresses as one string: it changes when Wi-Fi, cable, VPN or the DHCP
 * lease changes, which leaves a TCP connection half-dead until the heartbeat notices (DESIGN §7:
 * up to one interval). Loopback and IPv6 link-local addresses are left out (they never carry the socket).
 */
export function networkFingerprint(interfaces: Record<string, InterfaceInfo[] | undefined>): string {
  const addresses: string[] = [];
  for (const [name, infos] of Object.entries(interfaces))
    for (const i of infos ?? []) if (!i.internal && !i.address.toLowerCase().startsWith('fe80:')) addresses.push(`${name}=${i.address}`);
  return addresses.sort().join(',');
}

/**
 * Watches for the moments a socket is likely dead while it does not know it yet: the machine woke
 * (`resume`) or was unlocked, the network came back, or the machine's addresses changed. Each one
 * signals the renderer to reconnect at once instead of after its backoff. Returns `close()`, which
 * removes every listener and the timer.
 */
export function watchReconnectTriggers(d: ReconnectTriggerDeps): { close(): void; poll(): void } {
  const now = d.now ?? Date.now;
  const coalesceMs = d.coalesceMs ?? 1000;
  let last = -Infinity;
  const fire = (reason: ReconnectReason) => {
    const t = now();
    if (t - last < coalesceMs) return;
    last = t;
    d.signal(reason);
  };
  let online = d.isOnline();
  let fingerprint = d.networkFingerprint();
  const poll = () => {
    const nowOnline = d.isOnline();
    const nowFingerprint = d.networkFingerprint();
    if (nowOnline && !online) fire('online');
    else if (nowOnline && nowFingerprint !== fingerprint) fire('network-change');
    online = nowOnline;
    fingerprint = nowFingerprint;
  };
  const onResume = () => fire('resume');
  const onUnlock = () => fire('unlock');
  d.powerMonitor.on('resume', onResume);
  d.powerMonitor.on('unlock-screen', onUnlock);
  const setI = d.setInterval ?? ((fn, ms) => setInterval(fn, ms));
  const clearI = d.clearInterval ?? ((h) => clearInterval(h as ReturnType<typeof setInterval>));
  const timer = setI(poll, d.pollMs ?? 2000);
  return {
    poll,
    close() {
      clearI(timer);
      d.powerMonitor.removeListener('resume', onResume);
      d.powerMonitor.removeListener('unlock-screen', onUnlock);
    },
  };
}
