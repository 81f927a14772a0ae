/** Which side of a conversation a read mark belongs to: staff (`agent`) or the customer. */
export type ReadSide = 'agent' | 'customer';

/** A visitor's stored answer to the pre-chat form (issue 13); contact details live in the session store. */
export interface PreChatRecord {
  customerId: string;
  /** The topic id they picked, or null. */
  topic: string | null;
  /** The skill group the topic mapped to when they answered; their next web session opens there. */
  skillGroup: string | null;
  /** ISO 8601. */
  savedAt: string;
}

/**
 * The web channel's durable state (issue 13): pre-chat answers and conversation read marks. SQLite
 * in the embedded mode (`state.sqlite.ts`, migrations in gateway/web/migrations). A method that
 * resolves has made its write durable.
 */
export interface WidgetStateStore {
  preChat(customerId: string): Promise<PreChatRecord | null>;
  /** Stores (or replaces) the customer's pre-chat answer. */
  savePreChat(customerId: string, answer: { topic: string | null; skillGroup: string | null }): Promise<PreChatRecord>;
  /** The side's read mark of the conversation (0 when none). */
  readMark(conversationId: string, side: ReadSide): Promise<number>;
  /**
   * Raises the side's read mark to `upToSeq`; a lower or equal one changes nothing (marks never move
   * back). Returns the mark as stored, the one before, and whether it moved.
   */
  raiseReadMark(conversationId: string, side: ReadSide, upToSeq: number): Promise<{ upToSeq: number; previous: number; changed: boolean }>;
  close(): Promise<void>;
}

/**
 * Where a web visitor's next session opens (issue 13): the skill group of their pre-chat topic while
 * it still exists, else the channel's default. `customerId` null (no customer yet): the default.
 */
export async function nextSkillGroup(
  state: WidgetStateStore | undefined,
  groups: ReadonlySet<string>,
  defaultGroup: string,
  customerId: string | null,
): Promise<string> {
  const answer = customerId ? await state?.preChat(customerId) : null;
  return answer?.skillGroup && groups.has(answer.skillGroup) ? answer.skillGroup : defaultGroup;
}
