import { createStore } from 'zustand/vanilla';
import {
  TAKEOVER_LIST_MAX,
  type AgentLoad,
  type HeldContact,
  type HeldContactChange,
  type SessionViewers,
  type TakeoverView,
} from '../../../../../common/api/collision';

/**
 * The workstation's collision-control state (issue 15, docs/collision.md), fed by the agent socket's
 * `session:viewers`, `takeover:requested`, `takeover:updated`, `takeover:held` and `agent:load` pushes.
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
  /**
   * The contacts colleagues hold in my groups: `takeover:list`'s answer with the `takeover:held` pushes
   * applied since; null before the first read (pushes before it are dropped: the read has them).
   */
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

/**
 * The state after a `takeover:held` push (issue 15): the row replaced or added, most recently active
 * first as `takeover:list` orders them (at most TAKEOVER_LIST_MAX), or dropped when `held` is null.
 * Before the list was first read (`held` null) nothing changes.
 */
export function withHeld(s: CollisionState, change: HeldContactChange): CollisionState {
  if (!s.held) return s;
  const others = s.held.filter((h) => h.summary.id !== change.sessionId);
  if (!change.held) return others.length === s.held.length ? s : { ...s, held: others };
  const held = [...others, change.held]
    .sort((a, b) => Date.parse(b.summary.lastMessageAt) - Date.parse(a.summary.lastMessageAt))
    .slice(0, TAKEOVER_LIST_MAX);
  return { ...s, held };
}

/** The people viewing a conversation other than `meId`. */
export function othersViewing(v: SessionViewers | undefined, meId: string | null): SessionViewers['viewers'] {
  return (v?.viewers ?? []).filter((x) => x.id !== meId);
}

export function createCollisionStore() {
  return createStore<CollisionState>()(() => initialCollision());
}
export type CollisionStore = ReturnType<typeof createCollisionStore>;
