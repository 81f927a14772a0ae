import { z } from 'zod';

/**
 * The voice API (issue 18, DESIGN §6): what Kamailio asks the companion server for each call, and the
 * SIP credentials a signed-in agent's softphone registers with. Kamailio authenticates with the
 * `X-Huiliu-Voice-Token` header (deploy/kamailio/kamailio.cfg); agents with their bearer token.
 */

/** Longest SIP URI or Call-ID taken from Kamailio (RFC 3261 sets no limit; ours keeps bodies small). */
export const VOICE_FIELD_MAX = 512;

const field = z.string().max(VOICE_FIELD_MAX);

/**
 * `POST /api/v1/voice/route`: where does this call go? `invite`: a caller's new INVITE (`from`, `to`:
 * the SIP URIs as Kamailio saw them); `retry`: a parked or queued call asks for its place again
 * (`sessionId` from an earlier answer).
 */
export const VoiceRouteRequestSchema = z.object({
  event: z.enum(['invite', 'retry']),
  callId: field.min(1),
  from: field.optional(),
  to: field.optional(),
  /** Empty for a first INVITE (Kamailio sends `""`). */
  sessionId: z.union([z.literal(''), z.string().regex(/^SP\d{18}$/)]).optional(),
  /** `invite` with SDP: the caller's From tag and SDP offer (base64), for the queue announcement (docs/voice.md). */
  fromTag: field.optional(),
  sdp: z
    .string()
    .max(6 * 1024)
    .regex(/^[A-Za-z0-9+/]*={0,2}$/, 'base64')
    .optional(),
  /**
   * `invite` following a blind transfer: the INVITE's Referred-By (RFC 3892) as the caller's phone copied
   * it from the agent's REFER. With a REFER the server saw for this caller and target (`refer` event), the
   * call joins the transferred SP session instead of opening a new one (docs/voice.md "Blind transfer").
   */
  referredBy: field.optional(),
});
export type VoiceRouteRequest = z.infer<typeof VoiceRouteRequestSchema>;

/**
 * The answer: ring `user` (an agent's SIP user, their AOR `sip:user@domain` at the registrar), hold the
 * caller in the queue (`position` 1 = next; Kamailio asks again after `retrySeconds`), or refuse the
 * call with a SIP `status` (4xx/5xx/6xx) and reason phrase.
 */
export type VoiceRouteResponse =
  | { action: 'agent'; sessionId: string; user: string; ringSeconds: number }
  | {
      action: 'queue';
      sessionId: string;
      position: number;
      retrySeconds: number;
      /** The SDP answer (base64) Kamailio sends with `182 Queued` when the queue announcement plays (early media). */
      sdp?: string;
    }
  | { action: 'reject'; sessionId: string | null; status: number; reason: string };

/**
 * `POST /api/v1/voice/events`: what happened to a call. `ringing` (the agent's phone rings),
 * `answered` (the agent picked up: they accept the offer), `no-answer` (the agent's phone timed out,
 * was busy or declined: `status` is the SIP code; the offer goes to the next agent), `ended` (BYE,
 * or the caller hung up / CANCEL before an answer).
 * Attended transfer (RFC 5589 §7, docs/voice.md): `consult` (an agent's call to another agent: `agent`
 * is the caller agent's SIP user, `callId` the consult call's; the server ties it to the SP call that
 * agent holds) and `transferred` (the customer's INVITE with Replaces: `callId` is the new call's,
 * `replaces` the consult call's Call-ID, `agent` the consulted agent, who takes the session when their
 * phone answers that call) and `transfer_failed` (that INVITE failed before anyone answered it —
 * declined, ring time-out, cancelled, no media: `callId` is the new call's, `sessionId` the session
 * `transferred` answered, `status` the SIP status the customer's phone got; the session, which never
 * moved, stays with the first agent, who still has the customer on hold).
 * Blind transfer (RFC 5589 §6): `refer` (a REFER without Replaces in an SP call's dialog: `callId` is that
 * call's, `referTo` the Refer-To URI — an agent's SIP user or a skill group); the customer's INVITE that
 * follows it is a route `invite` with `referredBy`. That new call's `ended` before anyone answered it
 * (cancelled 487, no media 503, a relay error 500: `status` is what the customer's phone got) undoes the
 * transfer: the customer is still on the old call with the first agent (docs/voice.md "A failed blind transfer").
 */
export const VoiceEventRequestSchema = z.object({
  event: z.enum(['ringing', 'answered', 'no-answer', 'ended', 'consult', 'transferred', 'transfer_failed', 'refer']),
  callId: field.min(1),
  /** Empty when Kamailio does not know it (a BYE): the server finds the call by its Call-ID. */
  sessionId: z.union([z.literal(''), z.string().regex(/^SP\d{18}$/)]),
  /** The agent's SIP user the event concerns; empty when none (a caller hanging up while queued). */
  agent: z.string().max(128).optional(),
  /** The SIP status of the reply that caused the event (0 when none, e.g. a BYE). */
  status: z.number().int().min(0).max(699).optional(),
  /** `transferred`: the Call-ID the Replaces header names (the consult call); empty otherwise. */
  replaces: field.optional(),
  /** `refer`: the REFER's Refer-To (`<sip:agent2@domain>`, `sip:vip@domain`); empty otherwise. */
  referTo: field.optional(),
});
export type VoiceEventRequest = z.infer<typeof VoiceEventRequestSchema>;

/**
 * `GET /api/v1/voice/credentials`: the signed-in agent's SIP account for their softphone. Ephemeral
 * (draft-uberti-behave-turn-rest scheme, checked by Kamailio's auth_ephemeral): `username` is
 * `<expiry unix seconds>:<agent user>`, `password` base64(HMAC-SHA1(shared secret, username)).
 * `aor`: what to register; `uris`: where (`sip:host:port` for UDP/TCP, `ws(s)://host:port` for JsSIP).
 */
export interface VoiceCredentials {
  username: string;
  password: string;
  /** Seconds the credentials are valid from now. */
  ttl: number;
  expiresAt: string;
  aor: string;
  realm: string;
  uris: string[];
}
