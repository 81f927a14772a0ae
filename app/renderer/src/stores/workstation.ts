import { createStore } from 'zustand/vanilla';
import { createAssistSlice } from './assist';
import { createAuthSlice } from './auth';
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
  return createStore<Workstation>()((...a) => ({
    ...createAuthSlice(deps)(...a),
    ...createConnectionSlice(deps)(...a),
    ...createQueueSlice(deps)(...a),
    ...createConversationSlice(...a),
    ...createAssistSlice(...a),
    ...createTransferSlice(...a),
    ...createSupervisionSlice(...a),
    ...createOutboxSlice(deps)(...a),
  }));
}

export type WorkstationStore = ReturnType<typeof createWorkstationStore>;
