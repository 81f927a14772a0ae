import { createStore } from 'zustand/vanilla';
import type { AgentLoad, HeldContact, SessionViewers, TakeoverView } from '../../../../../common/api/collision';

/**
 * The workstation's collision-control state (issue 15, docs/collision.md), fed by the agent socket's
 * `session:viewers`, `takeover:requested`, `takeover:updated` and `agent:load` pushes.
 */
export interface CollisionState {
  /** The newest viewer list of each conversation this window views. */
  viewers: Record<string, SessionViewers>;
  /** Take-over requests asked of me, still unanswered (the holder's prompt). */
  asked: TakeoverView[];
  /** My own take-over request per conversation (the requester's status line). */
  mine: Record<string, TakeoverView>;
  /** The last take-over that ended, for a notice until dismissed. */
  outcome: TakeoverView | null;
  /** My presence and load against capacity. */
  load: AgentLoad | null;
  /** The contacts colleagues hold in my groups (`takeover:list`), as last read; null before the first read. */
  held: HeldContact[] | null;
  /** Why the last `takeover:list` failed (a stable error code), or null. */
  heldError: string | null;
}

export const initialCollision = (): CollisionState => ({
  viewers: {},
  asked: [],
  mine: {},
  outcome: null,
  load: null,
  held: null,
  heldError: null,
});

/** The state after a viewer list arrived (replaces the session's list). */
export function withViewers(s: CollisionState, v: SessionViewers): CollisionState {
  return { ...s, viewers: { ...s.viewers, [v.sessionId]: v } };
}

/** The state after a take-over was asked of me (`takeover:requested`), or changed (`takeover:updated`), as seen by `meId`. */
export function withTakeover(s: CollisionState, t: TakeoverView, meId: string | null): CollisionState {
  const asked = s.asked.filter((a) => a.id !== t.id);
  if (t.status === 'pending' && t.holder.id === meId) asked.push(t);
  const mine = { ...s.mine };
  if (t.requester.id === meId) {
    if (t.status === 'pending') mine[t.sessionId] = t;
    else delete mine[t.sessionId];
  }
  const outcome = t.status === 'pending' ? s.outcome : t;
  return { ...s, asked, mine, outcome };
}

/** The people viewing a conversation other than `meId`. */
export function othersViewing(v: SessionViewers | undefined, meId: string | null): SessionViewers['viewers'] {
  return (v?.viewers ?? []).filter((x) => x.id !== meId);
}

export function createCollisionStore() {
  return createStore<CollisionState>()(() => initialCollision());
}
export type CollisionStore = ReturnType<typeof createCollisionStore>;
