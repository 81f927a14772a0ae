import { createContext, useContext } from 'react';
import { useStore } from 'zustand';
import type { DesktopBridge } from '../../../common/ipc/desktop-bridge';
import { detectLocale, type Locale } from './locale';
import type { Workstation, WorkstationStore } from './stores/workstation';

export const StoreContext = createContext<WorkstationStore | null>(null);
export const BridgeContext = createContext<DesktopBridge | null>(null);

/** Reads a piece of workstation state with a selector (components re-render only when it changes). */
export function useWorkstation<T>(selector: (s: Workstation) => T): T {
  const store = useContext(StoreContext);
  if (!store) throw new Error('StoreContext missing');
  return useStore(store, selector);
}

/** The UI language: the browser's (Electron: the OS's) by default; tests and a future switch provide one. */
export const LocaleContext = createContext<Locale>(detectLocale(typeof navigator === 'undefined' ? [] : navigator.languages));
export const useLocale = (): Locale => useContext(LocaleContext);
