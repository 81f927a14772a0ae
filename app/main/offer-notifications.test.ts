import { describe, expect, it, vi } from 'vitest';
import { OfferNotifications, type NotificationLike } from './offer-notifications';

const SESSION_A = 'WB169208100012348213';
const SESSION_B = 'AP169208100012399999';

function setup(o: { supported?: boolean } = {}) {
  let t = Date.parse('2026-11-30T10:00:00.000Z');
  const shown: { title: string; closed: boolean; fire: (e: 'click' | 'close' | 'failed') => void }[] = [];
  const timers = new Map<number, { at: number; fn: () => void }>();
  let nextTimer = 1;
  const focusSession = vi.fn();
  const pendingCounts: number[] = [];
  const service = new OfferNotifications({
    isSupported: () => o.supported ?? true,
    create: ({ title }) => {
      const listeners: Record<string, () => void> = {};
      const record = { title, closed: false, fire: (e: 'click' | 'close' | 'failed') => listeners[e]?.() };
      const n: NotificationLike = {
        show: () => void shown.push(record),
        close: () => void (record.closed = true),
        on: (e, l) => void (listeners[e] = l),
      };
      return n;
    },
    focusSession,
    onPendingChange: (n) => void pendingCounts.push(n),
    now: () => t,
    setTimeout: (fn, ms) => (timers.set(nextTimer, { at: t + ms, fn }), nextTimer++),
    clearTimeout: (h) => void timers.delete(h as number),
  });
  const advance = (ms: number) => {
    t += ms;
    for (const [id, timer] of [...timers].sort((a, b) => a[1].at - b[1].at)) if (timer.at <= t && timers.delete(id)) timer.fn();
  };
  const offer = (sessionId: string, inMs = 20_000) => ({
    title: 'New contact: Li Wei',
    body: 'Where is my order?',
    sessionId,
    expiresAt: new Date(t + inMs).toISOString(),
  });
  return { service, shown, focusSession, pendingCounts, advance, offer };
}

describe('offer notifications that are never lost', () => {
  it('keeps an offer pending until the renderer acknowledges it; a click focuses without acknowledging', () => {
    const s = setup();
    expect(s.service.notify(s.offer(SESSION_A))).toEqual({ shown: true, pending: 1 });
    s.shown[0]!.fire('close');
    s.shown[0]!.fire('click');
    expect(s.focusSession).toHaveBeenCalledWith(SESSION_A);
    expect(s.service.pending()).toEqual([SESSION_A]);
    expect(s.service.acknowledge(SESSION_A)).toEqual({ pending: 0 });
    expect(s.shown[0]!.closed).toBe(true);
    expect(s.pendingCounts).toEqual([1, 0]);
  });

  it('shows a notification again when the OS failed to show it, at most three times', () => {
    const s = setup();
    s.service.notify(s.offer(SESSION_A));
    for (let i = 0; i < 5; i++) {
      s.shown.at(-1)!.fire('failed');
      s.advance(3000);
    }
    expect(s.shown).toHaveLength(3);
  });

  it('shows the open offers again after sleep and drops expired ones', () => {
    const s = setup();
    s.service.notify(s.offer(SESSION_A, 20_000));
    s.service.notify(s.offer(SESSION_B, 60_000));
    s.advance(10_000);
    expect(s.service.reshow()).toBe(2);
    s.advance(15_000);
    // A's offer lapsed on its own timer, even with the renderer gone.
    expect(s.service.pending()).toEqual([SESSION_B]);
    expect(s.shown.filter((n) => !n.closed)).toHaveLength(1);
  });

  it('does not notify an offer that already expired, and one session has one notification', () => {
    const s = setup();
    expect(s.service.notify(s.offer(SESSION_A, -1))).toEqual({ shown: false, pending: 0 });
    s.service.notify(s.offer(SESSION_B));
    s.service.notify(s.offer(SESSION_B));
    expect(s.service.pending()).toEqual([SESSION_B]);
    expect(s.shown.filter((n) => !n.closed)).toHaveLength(1);
  });

  it('keeps offers pending even where notifications are unsupported, and clears on sign-out', () => {
    const s = setup({ supported: false });
    expect(s.service.notify(s.offer(SESSION_A))).toEqual({ shown: false, pending: 1 });
    s.service.clear();
    expect(s.service.pending()).toEqual([]);
  });
});
