import type { CsatReceipt } from '../../../common/api/customers';
import type { WrapUpCode } from '../../../common/api/sessions';
import type { SessionChangeReason } from '../../../common/events/events';
import { HuiliuError } from '../../../common/errors/codes';
import type { ChannelCode } from '../../../common/message/session-id';
import type { SessionRecord, SessionStore } from '../sessions/store';

/**
 * Customer satisfaction (CSAT, issue 11): after a conversation closes, its customer may rate it 1..5
 * once, with an optional comment, from the channel they wrote on (the widget's rating frame, the app
 * channel's `POST /api/v1/channels/app/csat`). The ratings feed the customer's `csat` value fact
 * (`facts.store.ts`) and, later, the CSAT KPI.
 */

/**
 * Stores the rating of `sessionId` by the customer a channel vouches for.
 * @param input.customerId the customer the channel identified (null: a visitor who never wrote)
 * @param input.channel the channel asking: only that channel's sessions of the customer can be rated
 * @param input.score a whole number 1..5 (the transport has checked it)
 * @param input.comment optional, at most CSAT_COMMENT_MAX_LENGTH characters (checked by the transport); stored sealed
 * @throws HuiliuError SESSION_NOT_FOUND (no such session, another customer's, or another channel's —
 *   which of these is not said), SESSION_NOT_CLOSED, CSAT_ALREADY_GIVEN
 */
export async function rateConversation(
  store: Pick<SessionStore, 'getSession' | 'rateSession'>,
  input: { customerId: string | null; channel: ChannelCode; sessionId: string; score: number; comment?: string | undefined },
): Promise<CsatReceipt> {
  if (!input.customerId) throw new HuiliuError('SESSION_NOT_FOUND');
  const session = await store.getSession(input.sessionId);
  if (!session || session.channel !== input.channel || session.customerId !== input.customerId) throw new HuiliuError('SESSION_NOT_FOUND');
  const rating = await store.rateSession({
    sessionId: session.id,
    customerId: input.customerId,
    score: input.score,
    ...(input.comment ? { comment: input.comment } : {}),
  });
  return { sessionId: rating.sessionId, score: rating.score, ratedAt: rating.ratedAt };
}

/** Whether a session can still be rated: null while open; for a closed one, `rateable` or the score given. */
export async function csatState(
  store: Pick<SessionStore, 'sessionRating'>,
  session: Pick<SessionRecord, 'id' | 'status'>,
): Promise<{ rateable: true } | { rateable: false; score: number } | null> {
  if (session.status !== 'closed') return null;
  const rating = await store.sessionRating(session.id);
  return rating ? { rateable: false, score: rating.score } : { rateable: true };
}

/** Wrap-up codes that never get a channel survey (issue 15): nobody to ask — spam, a duplicate contact, an abandoned one. */
export const NO_SURVEY_WRAP_UPS: readonly WrapUpCode[] = ['spam', 'duplicate', 'no-response'];

/**
 * Whether a `session.changed` warrants asking the customer on WeChat, XMPP or the app (issue 15): an
 * agent's close (`reason: 'closed'`: never a customer's move to another channel) with a wrap-up code
 * other than NO_SURVEY_WRAP_UPS (absent: `resolved`). The KPI recorder counts `csat.asked` by the same rule.
 */
export function csatWarranted(change: {
  status: string;
  reason: SessionChangeReason;
  wrapUpCode?: WrapUpCode | null | undefined;
}): boolean {
  return change.status === 'closed' && change.reason === 'closed' && !NO_SURVEY_WRAP_UPS.includes(change.wrapUpCode ?? 'resolved');
}
