import type { CannedReply } from '../../../common/api/canned';

/** Whose replies a search or a write is about: a skill group's, or one staff user's personal set. */
export type CannedScope = { kind: 'group'; skillGroup: string } | { kind: 'personal'; ownerId: string };

/** A reply as written: everything but `id` and the owner fields, which the scope gives. */
export interface CannedWrite {
  shortcut: string;
  title: string;
  text: string;
  lang: 'zh' | 'en' | null;
  updatedBy: string;
  updatedAt: string;
}

/**
 * The canned replies port (issue 15). Adapters: SQLite (`store.sqlite.ts`, the embedded default).
 * Shortcuts are unique per scope (a group's, or a user's personal set).
 */
export interface CannedReplyStore {
  /**
   * The replies of `scopes` whose shortcut, title or text contains `q` (case-insensitive; every reply
   * of the scopes without `q`), at most `limit`, unordered (the caller ranks).
   */
  search(scopes: readonly CannedScope[], q: string | undefined, limit: number): Promise<CannedReply[]>;
  get(id: string): Promise<CannedReply | null>;
  /** @throws HuiliuError CANNED_SHORTCUT_TAKEN when the scope already has the shortcut */
  create(id: string, scope: CannedScope, reply: CannedWrite): Promise<CannedReply>;
  /** The reply, changed; null when it is gone. @throws HuiliuError CANNED_SHORTCUT_TAKEN */
  update(id: string, reply: CannedWrite): Promise<CannedReply | null>;
  /** Whether it existed. */
  remove(id: string): Promise<boolean>;
  close(): Promise<void>;
}
