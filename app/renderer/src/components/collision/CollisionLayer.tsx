import { useEffect, useRef } from 'react';
import { useWorkstation } from '../../context';
import { withHeld, withTakeover, withViewers, type CollisionState } from './collision-store';
import { offSocket as off, useCollisionStore } from './collision-hooks';
import { TakeoverPrompt } from './TakeoverPrompt';
import './collision.css';

/**
 * Collision control for the workstation (issue 15, docs/collision.md), mounted once: tells the server
 * which conversation this window views (`session:view` / `session:unview`, again after a reconnect),
 * keeps the pushed viewer lists, take-overs, the Team tab's rows and load, and shows the holder's take-over prompt
 * wherever they are in the app.
 */
export function CollisionLayer({ onTakenOver }: { onTakenOver?: (sessionId: string) => void } = {}) {
  const store = useCollisionStore();
  const connection = useWorkstation((s) => s.connection);
  const openSessionId = useWorkstation((s) => s.openSessionId);
  const meId = useWorkstation((s) => s.user?.id ?? null);
  const openSession = useWorkstation((s) => s.openSession);
  const setQueueFilter = useWorkstation((s) => s.setQueueFilter);
  const supervisedId = useWorkstation((s) => s.supervisedId);
  const closeSupervision = useWorkstation((s) => s.closeSupervision);
  // Read when a take-over lands, so a new callback or supervised conversation does not re-subscribe the pushes.
  const latest = useRef({ onTakenOver, supervisedId });
  latest.current = { onTakenOver, supervisedId };

  useEffect(() => {
    if (!connection) return;
    const { socket } = connection;
    const onViewers = (v: Parameters<typeof withViewers>[1]) => store.setState((s) => withViewers(s, v));
    const onTakeover = (t: Parameters<typeof withTakeover>[1]) => {
      store.setState((s) => withTakeover(s, t, meId));
      // The contact is mine now: its conversation is read again, writable, among my chats (a lead
      // who asked from the supervision view leaves it for the desk: `onTakenOver`).
      if (t.status === 'accepted' && t.requester.id === meId) {
        if (latest.current.supervisedId === t.sessionId) void closeSupervision();
        setQueueFilter('mine');
        store.setState((s) => ({ ...s, held: s.held?.filter((h) => h.summary.id !== t.sessionId) ?? null }));
        latest.current.onTakenOver?.(t.sessionId);
        void openSession(t.sessionId);
      }
    };
    const onLoad = (load: NonNullable<CollisionState['load']>) => store.setState({ load });
    const onHeld = (change: Parameters<typeof withHeld>[1]) => store.setState((s) => withHeld(s, change));
    socket.on('session:viewers', onViewers);
    socket.on('takeover:held', onHeld);
    socket.on('takeover:requested', onTakeover);
    socket.on('takeover:updated', onTakeover);
    socket.on('agent:load', onLoad);
    return () => {
      off(socket, 'session:viewers', onViewers);
      off(socket, 'takeover:held', onHeld);
      off(socket, 'takeover:requested', onTakeover);
      off(socket, 'takeover:updated', onTakeover);
      off(socket, 'agent:load', onLoad);
    };
  }, [connection, store, meId, openSession, setQueueFilter, closeSupervision]);

  useEffect(() => {
    if (!connection || !openSessionId) return;
    const view = () =>
      void connection
        .request('session:view', { sessionId: openSessionId }, { retries: 0 })
        .then((v) => store.setState((s) => withViewers(s, v)))
        .catch(() => undefined);
    view();
    // A reconnect is a new socket: the server forgot this window's views.
    connection.socket.on('hello', view);
    return () => {
      off(connection.socket, 'hello', view);
      void connection.request('session:unview', { sessionId: openSessionId }, { retries: 0 }).catch(() => undefined);
    };
  }, [connection, openSessionId, store]);

  return <TakeoverPrompt />;
}
