import { useContext } from 'react';
import { useStore } from 'zustand';
import { StoreContext } from '../../context';
import type { AgentConnection } from '../../api/agent-socket';
import type { WorkstationStore } from '../../stores/workstation';
import { createCollisionStore, type CollisionState, type CollisionStore } from './collision-store';

/** One collision store per workstation store (kept beside it, so App needs no extra provider). */
const stores = new WeakMap<WorkstationStore, CollisionStore>();
const EMPTY = createCollisionStore();

/** The collision store of this workstation (created on first use), or an empty one outside a workstation. */
export function useCollisionStore(): CollisionStore {
  const workstation = useContext(StoreContext);
  if (!workstation) return EMPTY;
  let store = stores.get(workstation);
  if (!store) stores.set(workstation, (store = createCollisionStore()));
  return store;
}

/** Reads a piece of collision state (components re-render only when it changes). */
export function useCollision<T>(selector: (s: CollisionState) => T): T {
  return useStore(useCollisionStore(), selector);
}

/** Removes a socket listener; a minimal socket (a test's stand-in) without `off` is left as it is. */
export function offSocket(socket: AgentConnection['socket'], event: string, fn: (...args: never[]) => void): void {
  const remove = (socket as unknown as { off?: (event: string, fn: (...args: never[]) => void) => void }).off;
  remove?.call(socket, event, fn);
}
