/**
 * The session the agent's acts apply to: the conversation on screen (`detail`), else the one being
 * opened. While another conversation loads, `openSessionId` already names the new one but the old one
 * (its composer, wrap-up, note, transfer dialog) is still what the agent sees and acts on; a reply
 * typed to that customer must never go to the one being opened (review of issue 15).
 */
export const shownSessionId = (s: { detail: { id: string } | null; openSessionId: string | null }): string | null =>
  s.detail?.id ?? s.openSessionId;
