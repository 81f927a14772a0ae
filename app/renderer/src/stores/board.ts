import { createStore, type StoreApi } from 'zustand/vanilla';
import type { BoardGroup, BoardRules, BoardSnapshot } from '../../../../common/api/board';
import { HuiliuError } from '../../../../common/errors/codes';
import type { AgentConnection } from '../api/agent-socket';

/**
 * The lead's live board (issue 16): the groups' snapshots as the server pushed them. One
 * `board:subscribe` on the agent socket (again after each reconnect), then `board:update` replaces
 * the groups it carries — a group is replaced only by a newer one (`at`), since a push may overtake
 * the subscribe's answer. Nothing here polls; the page ticks waits from the timestamps.
 */
export interface BoardState {
  status: 'idle' | 'loading' | 'live' | 'reconnecting' | 'failed';
  /** The server's error code when `failed` (e.g. FORBIDDEN). */
  error: string | null;
  rules: BoardRules | null;
  /** Groups in the order the server first gave them. */
  order: string[];
  groups: Record<string, BoardGroup>;
  /** Subscribes (and re-subscribes after reconnects) until `stop`. */
  start(): void;
  stop(): void;
}

export type BoardStore = StoreApi<BoardState>;

/** Keeps each group of `snapshot` that is newer than the one held. */
export function mergeSnapshot(state: Pick<BoardState, 'order' | 'groups'>, snapshot: BoardSnapshot): Pick<BoardState, 'order' | 'groups'> {
  const groups = { ...state.groups };
  const order = [...state.order];
  for (const g of snapshot.groups) {
    const held = groups[g.skillGroup];
    if (!held || Date.parse(held.at) <= Date.parse(g.at)) groups[g.skillGroup] = g;
    if (!order.includes(g.skillGroup)) order.push(g.skillGroup);
  }
  return { order, groups };
}

/** A board store over the workstation's agent connection (null: not connected; the board says so). */
export function createBoardStore(connection: AgentConnection | null): BoardStore {
  let running = false;
  const store = createStore<BoardState>()((set, get) => {
    const onUpdate = (snapshot: BoardSnapshot) => {
      if (!running) return;
      set({ rules: snapshot.rules, ...mergeSnapshot(get(), snapshot) });
    };
    const subscribe = async () => {
      if (!connection || !running) return;
      try {
        const snapshot = await connection.request('board:subscribe', {}, { retries: 1 });
        if (!running) return;
        set({ status: 'live', error: null, rules: snapshot.rules, ...mergeSnapshot(get(), snapshot) });
      } catch (error) {
        set({ status: 'failed', error: error instanceof HuiliuError ? error.code : 'INTERNAL' });
      }
    };
    const onConnect = () => void subscribe();
    const onDisconnect = () => {
      if (running && get().status === 'live') set({ status: 'reconnecting' });
    };
    return {
      status: 'idle',
      error: null,
      rules: null,
      order: [],
      groups: {},
      start() {
        if (running) return;
        running = true;
        if (!connection) return set({ status: 'failed', error: 'OFFLINE' });
        set({ status: 'loading' });
        connection.socket.on('board:update', onUpdate);
        connection.socket.on('connect', onConnect);
        connection.socket.on('disconnect', onDisconnect);
        if (connection.socket.connected) void subscribe();
      },
      stop() {
        if (!running) return;
        running = false;
        if (!connection) return;
        connection.socket.off('board:update', onUpdate);
        connection.socket.off('connect', onConnect);
        connection.socket.off('disconnect', onDisconnect);
        if (connection.socket.connected) void connection.request('board:unsubscribe', {}, { retries: 0 }).catch(() => undefined);
      },
    };
  });
  return store;
}
