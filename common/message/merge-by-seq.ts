/** Anything with a conversation sequence number (DESIGN §4: per conversation, gap-free, set by the store). */
export interface Sequenced {
  id: string;
  seq: number;
}

/** A seq held by one message locally and by another in what arrived: the one held first stays. */
export interface SeqConflict {
  seq: number;
  kept: string;
  refused: string;
}

export interface MergeResult<T extends Sequenced> {
  /** Every message once, ascending by seq. */
  messages: T[];
  /** How many messages of `incoming` were new. */
  added: number;
  conflicts: SeqConflict[];
  /** Seqs still missing between the lowest and highest held (inclusive ranges), oldest first: fetch these. */
  gaps: { from: number; to: number }[];
}

/**
 * Merges what the client holds with what arrived (a page, a reconnect catch-up) by `seq` (DESIGN §7:
 * "local histories merge by seq, never overwrite"). A seq or an id already held is never replaced and
 * never shown twice; new seqs fill gaps. Pure: neither input is changed. O((n + m) log(n + m)).
 */
export function mergeBySeq<T extends Sequenced>(current: readonly T[], incoming: readonly T[]): MergeResult<T> {
  const bySeq = new Map<number, T>();
  const ids = new Set<string>();
  const conflicts: SeqConflict[] = [];
  let added = 0;
  const take = (m: T, fromIncoming: boolean) => {
    const held = bySeq.get(m.seq);
    if (held) {
      if (held.id !== m.id) conflicts.push({ seq: m.seq, kept: held.id, refused: m.id });
      return;
    }
    // The same message under another seq (a client bug or a replayed frame): the first one stays.
    if (ids.has(m.id)) return;
    bySeq.set(m.seq, m);
    ids.add(m.id);
    if (fromIncoming) added++;
  };
  for (const m of current) take(m, false);
  for (const m of incoming) take(m, true);
  const messages = [...bySeq.values()].sort((a, b) => a.seq - b.seq);
  const gaps: { from: number; to: number }[] = [];
  for (let i = 1; i < messages.length; i++) {
    const prev = messages[i - 1]!.seq;
    const next = messages[i]!.seq;
    if (next > prev + 1) gaps.push({ from: prev + 1, to: next - 1 });
  }
  return { messages, added, conflicts, gaps };
}
