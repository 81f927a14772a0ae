import { component, type Component, type Element } from '@xmpp/component';
import type { Logger } from '../../logging/logger';

/** How long one connection attempt (TCP connect + stream + handshake) may take before it counts as failed (ms). */
const ATTEMPT_TIMEOUT_MS = 10_000;
/** How long a clean stop waits for the server to close the stream (ms). */
const STOP_TIMEOUT_MS = 2_000;

/**
 * The wait before reconnect attempt `attempt` (0 = the first retry): capped exponential backoff with
 * "equal jitter" — half of `min(max, min × 2^attempt)` fixed, the other half random — so a restart
 * of the XMPP server does not see every node come back in the same millisecond, and the wait never
 * collapses to zero. `random` is Math.random (tests pass their own).
 */
export function backoffDelay(attempt: number, minMs: number, maxMs: number, random: () => number = Math.random): number {
  const ceiling = Math.min(maxMs, minMs * 2 ** Math.min(attempt, 30));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

export interface ComponentLinkOptions {
  /** `xmpp://host:port` of the XMPP server's component port. */
  service: string;
  /** The component's domain (XEP-0114), e.g. `support.example.com`. */
  domain: string;
  /** The component secret (sealed in the channels store; never logged). */
  password: string;
  reconnectMinMs: number;
  reconnectMaxMs: number;
  /** Every stanza the server routes to the component. Must not throw; its promise is not awaited. */
  onStanza: (el: Element) => void;
  /** The link came up (`true`) or went down (`false`). */
  onStatus?: (online: boolean) => void;
  /** A connection attempt failed (counted by the caller). */
  onAttemptFailed?: (error: Error) => void;
  /** The stream broke on XML the server sent that does not parse (counted by the caller). */
  onMalformed?: (error: Error) => void;
  log: Logger;
  random?: () => number;
}

/**
 * One XEP-0114 external-component connection with its own reconnect loop (xmpp.js's built-in
 * reconnect retries every second forever, with no backoff, and is switched off here).
 *
 * - `start()` returns at once: the first attempt runs in the background, so an XMPP server that is
 *   down at start never holds up or stops the product. A failed attempt is logged as a warning
 *   (never the secret), reported through `onAttemptFailed`, and retried after `backoffDelay`; the
 *   attempt counter resets once the link is up.
 * - Each attempt uses a fresh xmpp.js entity, so nothing of a broken stream (parser, half-open socket)
 *   leaks into the next; a stale entity's late events are ignored.
 * - The library's middleware (which would answer iqs on its own) is detached: every stanza goes to
 *   `onStanza`, the one handler (inbound.ts) that answers them all.
 * - `stop()` cancels any pending retry and closes the stream cleanly (bounded by 2 s).
 */
export class ComponentLink {
  private entity: Component | null = null;
  private isOnline = false;
  private stopped = true;
  private attempt = 0;
  /** The reason of the last failed attempt logged at warn (a server that stays down is not logged every few seconds). */
  private lastWarned: string | null = null;
  private timer: NodeJS.Timeout | null = null;
  private waiters: (() => void)[] = [];

  constructor(private readonly options: ComponentLinkOptions) {}

  get online(): boolean {
    return this.isOnline;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.attempt = 0;
    void this.connect();
  }

  /** Resolves once the link is up (immediately when it is); rejects after `timeoutMs`. For tests and scripts. */
  whenOnline(timeoutMs = 10_000): Promise<void> {
    if (this.isOnline) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`XMPP component not online within ${timeoutMs} ms`)), timeoutMs);
      this.waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /**
   * Sends one stanza on the live stream.
   * @throws Error `not connected` when the link is down; the socket's write error as it is
   */
  async send(el: Element): Promise<void> {
    const entity = this.entity;
    if (!this.isOnline || !entity) throw new Error('not connected');
    await entity.send(el);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const entity = this.entity;
    this.entity = null;
    this.setOnline(false);
    if (entity) await closeQuietly(entity);
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    const { service, domain, password, log } = this.options;
    const entity = component({ service, domain, password });
    entity.reconnect.stop();
    entity.removeAllListeners('element');
    this.entity = entity;
    let failure: Error | null = null;
    entity.on('error', (error: Error) => {
      failure ??= error;
      // The stream broke on XML the server sent: xmpp.js answered with a `bad-format` stream error
      // and closes; the link comes back through the reconnect below.
      if (error.name === 'XMLError' && this.entity === entity) this.options.onMalformed?.(error);
    });
    entity.on('stanza', (el: Element) => {
      if (this.entity === entity) this.options.onStanza(el);
    });
    entity.on('status', (status: string) => {
      if ((status === 'disconnect' || status === 'offline') && this.entity === entity) this.lost(entity, failure);
    });
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        entity.start(),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no handshake within ${ATTEMPT_TIMEOUT_MS} ms`)), ATTEMPT_TIMEOUT_MS);
        }),
      ]);
      if (this.entity !== entity) return;
      this.attempt = 0;
      this.lastWarned = null;
      this.setOnline(true);
      log.info({ domain }, 'XMPP component online');
    } catch (error) {
      if (this.entity === entity) this.lost(entity, failure ?? (error as Error));
    } finally {
      clearTimeout(timer);
    }
  }

  /** The current entity failed to connect or lost its stream: drop it and retry after the backoff. */
  private lost(entity: Component, error: Error | null): void {
    if (this.entity !== entity) return;
    this.entity = null;
    const wasOnline = this.isOnline;
    this.setOnline(false);
    void closeQuietly(entity);
    if (this.stopped) return;
    const { domain, reconnectMinMs, reconnectMaxMs, log, random } = this.options;
    const delay = backoffDelay(this.attempt++, reconnectMinMs, reconnectMaxMs, random);
    const why = describe(error);
    if (wasOnline) {
      log.warn({ domain, why, retryInMs: delay }, 'XMPP component link lost; reconnecting');
    } else {
      this.options.onAttemptFailed?.(error ?? new Error('connection closed'));
      // Warn on the first failure of an outage, when its reason changes, and every 20th attempt; the
      // retries in between are debug (the failures metric counts every one).
      const loud = why !== this.lastWarned || this.attempt % 20 === 0;
      if (loud) this.lastWarned = why;
      log[loud ? 'warn' : 'debug']({ domain, why, attempt: this.attempt, retryInMs: delay }, 'XMPP component could not connect; retrying');
    }
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.connect();
    }, delay);
    this.timer.unref();
  }

  private setOnline(online: boolean): void {
    if (online === this.isOnline) return;
    this.isOnline = online;
    this.options.onStatus?.(online);
    if (online) for (const w of this.waiters.splice(0)) w();
  }
}

/** A short, secret-free reason: the error's condition or code (`ECONNREFUSED`, `not-authorized`, `host-unknown`). */
function describe(error: Error | null): string {
  if (!error) return 'connection closed';
  const e = error as Error & { code?: string; condition?: string };
  return e.condition ?? e.code ?? error.name;
}

/** Closes an entity's stream and socket, whatever state it is in, within STOP_TIMEOUT_MS. */
async function closeQuietly(entity: Component): Promise<void> {
  const done = entity.stop().catch(() => undefined);
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([done, new Promise((resolve) => (timer = setTimeout(resolve, STOP_TIMEOUT_MS)))]);
  clearTimeout(timer);
  // A server that never answered the stream close: drop the socket.
  entity.socket?.destroy();
  entity.removeAllListeners('stanza');
  entity.removeAllListeners('status');
}
