import { useEffect, useMemo, useRef } from 'react';
import type { SessionDetail } from '../../../../common/api/sessions';
import { useWorkstation } from '../context';

/** `agent:typing: true` goes out at most this often while the agent keeps typing (ms). */
export const TYPING_EVERY_MS = 3000;
/** After this long without a key the agent counts as stopped (`typing: false`, ms). */
export const TYPING_IDLE_MS = 5000;

export interface TypingSignal {
  /** The agent pressed a key in the composer. */
  keyed(): void;
  /** The agent sent, left the chat or the composer went away: `false` if `true` was said. */
  stop(): void;
}

/**
 * The composer's typing signal (issue 13): `emit(true)` on the first key and again at most every
 * TYPING_EVERY_MS while keys keep coming; `emit(false)` after TYPING_IDLE_MS without a key, or on `stop`.
 */
export function createTypingSignal(emit: (typing: boolean) => void, now: () => number = Date.now): TypingSignal {
  let typing = false;
  let saidAt = 0;
  let idle: ReturnType<typeof setTimeout> | null = null;
  const stop = () => {
    if (idle) clearTimeout(idle);
    idle = null;
    if (!typing) return;
    typing = false;
    emit(false);
  };
  return {
    keyed() {
      const t = now();
      if (!typing || t - saidAt >= TYPING_EVERY_MS) {
        typing = true;
        saidAt = t;
        emit(true);
      }
      if (idle) clearTimeout(idle);
      idle = setTimeout(stop, TYPING_IDLE_MS);
    },
    stop,
  };
}

/** The typing signal of the agent's open chat (`enabled`: the chat is theirs); stopped when the chat changes. */
export function useAgentTyping(sessionId: string | null, enabled: boolean): TypingSignal {
  const connection = useWorkstation((s) => s.connection);
  const signal = useMemo(
    () =>
      createTypingSignal((typing) => {
        if (!connection || !sessionId || !enabled) return;
        // Volatile: a lost signal is simply not shown, so it is never retried.
        void connection.request('agent:typing', { sessionId, typing }, { retries: 0, rateLimitedResends: 0 }).catch(() => undefined);
      }),
    [connection, sessionId, enabled],
  );
  useEffect(() => () => signal.stop(), [signal]);
  return signal;
}

/**
 * Read receipts of the open chat (issue 13): while the window is visible, the newest customer message
 * shown is reported with `session:read` (once per seq; the server keeps the highest mark), so a web
 * visitor sees "Read". `enabled`: the chat is mine (the server answers NOT_ASSIGNED to anyone else:
 * a colleague or lead only viewing it does not move the customer's "Read" mark, docs/collision.md).
 */
export function useReadReceipt(detail: SessionDetail | null, enabled: boolean): void {
  const connection = useWorkstation((s) => s.connection);
  const sent = useRef(new Map<string, number>());
  const sessionId = detail?.id;
  const newestIn = detail?.messages.reduce((n, m) => (m.direction === 'in' && m.seq > n ? m.seq : n), 0) ?? 0;
  useEffect(() => {
    if (!connection || !sessionId || newestIn === 0 || !enabled) return;
    const report = () => {
      if (document.visibilityState !== 'visible' || (sent.current.get(sessionId) ?? 0) >= newestIn) return;
      sent.current.set(sessionId, newestIn);
      void connection.request('session:read', { sessionId, upToSeq: newestIn }, { retries: 1 }).catch(() => sent.current.delete(sessionId));
    };
    report();
    document.addEventListener('visibilitychange', report);
    return () => document.removeEventListener('visibilitychange', report);
  }, [connection, sessionId, newestIn, enabled]);
}
