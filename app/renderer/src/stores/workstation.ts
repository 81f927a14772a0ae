import { createStore } from 'zustand/vanilla';
import { createAssistSlice } from './assist';
import { createAuthSlice, OPEN_SESSION_KEY } from './auth';
import { createConnectionSlice } from './connection';
import { createConversationSlice } from './conversation';
import { createOutboxSlice } from './outbox';
import { createQueueSlice } from './queue';
import { createSupervisionSlice } from './supervision';
import { createTransferSlice } from './transfers';
import type { Workstation, WorkstationDeps } from './types';

export type { Workstation, WorkstationDeps };

/** The whole workstation state, from small slices (zustand slices pattern). */
export function createWorkstationStore(deps: WorkstationDeps) {
  const store = createStore<Workstation>()((...a) => ({
    ...createAuthSlice(deps)(...a),
    ...createConnectionSlice(deps)(...a),
    ...createQueueSlice(deps)(...a),
    ...createConversationSlice(...a),
    ...createAssistSlice(...a),
    ...createTransferSlice(...a),
    ...createSupervisionSlice(...a),
    ...createOutboxSlice(deps)(...a),
  }));
  store.subscribe((now, before) => {
    if (now.openSessionId === before.openSessionId) return;
    if (now.openSessionId) deps.storage.setItem(OPEN_SESSION_KEY, now.openSessionId);
    else deps.storage.removeItem(OPEN_SESSION_KEY);
  });
  return store;
}

export type WorkstationStore = ReturnType<typeof createWorkstationStore>;
