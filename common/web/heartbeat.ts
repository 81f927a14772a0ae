/**
 * Adaptive heartbeat (DESIGN §7): 30 s on a good link, 60 s on a weak one, judged from measured
 * round trips and lost pongs; a link whose pong has not come back by the next beat is dead, so a dead
 * link is noticed within one interval. Pure logic: the widget (and later the desktop) drive it.
 */
export interface HeartbeatOptions {
  goodMs?: number;
  weakMs?: number;
  /** Smoothed round trip above which the link counts as weak. */
  weakRttMs?: number;
}

export class Heartbeat {
  private readonly goodMs: number;
  private readonly weakMs: number;
  private readonly weakRttMs: number;
  private rtt: number | null = null;
  private outstanding: number | null = null;
  /** Pongs lost recently (decays by one per good pong). */
  private lost = 0;

  constructor(options: HeartbeatOptions = {}) {
    this.goodMs = options.goodMs ?? 30_000;
    this.weakMs = options.weakMs ?? 60_000;
    this.weakRttMs = options.weakRttMs ?? 1_000;
  }

  get weak(): boolean {
    return this.lost > 0 || (this.rtt !== null && this.rtt > this.weakRttMs);
  }

  /** How long to wait before the next beat. */
  get intervalMs(): number {
    return this.weak ? this.weakMs : this.goodMs;
  }

  get roundTripMs(): number | null {
    return this.rtt;
  }

  /**
   * Called at each beat. Returns 'dead' when the previous ping was never answered; otherwise the
   * caller sends a ping stamped `now` and waits `intervalMs`.
   */
  beat(now: number): 'dead' | 'ping' {
    if (this.outstanding !== null) {
      this.lost += 1;
      this.outstanding = null;
      return 'dead';
    }
    this.outstanding = now;
    return 'ping';
  }

  /** A pong for the ping stamped `sentAt` arrived at `now`. Stale pongs are ignored. */
  pong(sentAt: number, now: number): void {
    if (this.outstanding === null || sentAt !== this.outstanding) return;
    this.outstanding = null;
    const sample = Math.max(0, now - sentAt);
    // Exponentially weighted, like TCP's SRTT (RFC 6298: alpha = 1/8).
    this.rtt = this.rtt === null ? sample : this.rtt + (sample - this.rtt) / 8;
    if (this.lost > 0 && sample <= this.weakRttMs) this.lost -= 1;
  }

  /** A new connection: forget the outstanding ping, keep what was learned about the link. */
  reset(): void {
    this.outstanding = null;
  }
}
