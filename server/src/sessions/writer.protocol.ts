import type { ErrorInfo } from '../../../common/errors/codes';
import type { KeyProviderSpec } from '../keys/provider';
import type { MessageRow } from './sqlite-rows';
import type { SessionWriteOp } from './writer';

/** What the main thread hands the session writer's worker when it starts it (structured-clone data only). */
export interface WriterWorkerData {
  /** The SQLite file; the main thread has applied the migrations already. */
  path: string;
  keys: KeyProviderSpec;
  continuityMs: number;
  /** A shared clock (ms since epoch at index 0) for tests; absent: the wall clock. */
  clock?: Float64Array;
  /**
   * Fault injection for the crash tests only: once this many write jobs have committed, the next
   * batch stops inside its open transaction (before COMMIT), posts `held`, and waits forever.
   */
  holdBatchAfterJobs?: number;
  /** Fault injection for tests only: the thread exits right after the commit that reaches this many jobs, before answering. */
  exitAfterJobs?: number;
  /** Send each sealed message row and its payload back with the replies (the main thread's opened cache is on). */
  sealedBack?: boolean;
}

/** A message row the writer sealed and the payload JSON it sealed (`OnSealed`), as it crosses the thread. */
export interface SealedMessage {
  row: MessageRow;
  payload: string;
}

export interface WriteCall {
  id: number;
  op: SessionWriteOp;
  args: unknown[];
}

export type WriteReply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: ErrorInfo };

export type ToWriter = { t: 'calls'; calls: WriteCall[] } | { t: 'shutdown' };

export type FromWriter =
  | { t: 'ready' }
  | { t: 'replies'; replies: WriteReply[]; sealed?: SealedMessage[] }
  | { t: 'held'; jobs: number }
  | { t: 'failed'; message: string };
