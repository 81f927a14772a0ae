import { createContext, useContext } from 'react';
import { useStore } from 'zustand';
import type { DesktopBridge } from '../../../common/ipc/desktop-bridge';
import type { Workstation, WorkstationStore } from './stores/workstation';

export const StoreContext = createContext<WorkstationStore | null>(null);
export const BridgeContext = createContext<DesktopBridge | null>(null);

/** Reads a piece of workstation state with a selector (components re-render only when it changes). */
export function useWorkstation<T>(selector: (s: Workstation) => T): T {
  const store = useContext(StoreContext);
  if (!store) throw new Error('StoreContext missing');
  return useStore(store, selector);
}
