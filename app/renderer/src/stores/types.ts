import type { i18n } from 'i18next';
import type { StateCreator } from 'zustand';
import type { DesktopBridge } from '../../../../common/ipc/desktop-bridge';
import type { ServerApi } from '../api/http';
import type { AgentConnection } from '../api/agent-socket';
import type { AssistSlice } from './assist';
import type { AuthSlice } from './auth';
import type { ConnectionSlice } from './connection';
import type { ConversationSlice } from './conversation';
import type { OutboxSlice } from './outbox';
import type { QueueSlice } from './queue';
import type { SupervisionSlice } from './supervision';
import type { TransferSlice } from './transfers';

export type Workstation = AuthSlice &
  ConnectionSlice &
  QueueSlice &
  ConversationSlice &
  AssistSlice &
  TransferSlice &
  SupervisionSlice &
  OutboxSlice;

/** What the store needs from the outside, injected so tests can pass their own. */
export interface WorkstationDeps {
  api: ServerApi;
  bridge: DesktopBridge;
  connect: (token: string) => AgentConnection;
  storage: Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;
  /**
   * The UI language (issue 15) for what the stores word themselves: OS notifications. The app passes
   * its i18next instance, so a language switch applies at once; absent (tests): English.
   */
  i18n?: i18n;
}

export type Slice<T> = StateCreator<Workstation, [], [], T>;
