import { createHmac } from 'node:crypto';

/** How long an agent's SIP credentials are valid (s): one shift; the softphone asks again before they lapse. */
export const SIP_CREDENTIAL_TTL_S = 12 * 3600;

/**
 * Ephemeral SIP credentials for one agent (issue 18), in the TURN REST scheme that Kamailio's
 * auth_ephemeral module checks (draft-uberti-behave-turn-rest-00 §2.2, username_format 1):
 * `username = "<expiry unix seconds>:<sipUser>"`, `password = base64(HMAC-SHA1(secret, username))`.
 * Nothing is stored: Kamailio recomputes the password from the shared secret and refuses a username
 * whose expiry has passed, so a leaked password dies with its expiry and no static password exists.
 *
 * @param sipUser the agent's SIP user (their username; the AOR `sip:<sipUser>@<domain>`); must not
 *   contain ':' (the scheme's separator)
 * @param nowMs the clock, ms since the epoch
 * @throws Error when `sipUser` is empty or holds ':' (a wiring bug: usernames never do)
 */
export function ephemeralSipCredentials(
  secret: string,
  sipUser: string,
  nowMs: number,
  ttlSeconds: number = SIP_CREDENTIAL_TTL_S,
): { username: string; password: string; expiresAt: number } {
  if (!sipUser || sipUser.includes(':')) throw new Error('a SIP user must be non-empty and hold no ":"');
  const expiresAt = Math.floor(nowMs / 1000) + ttlSeconds;
  const username = `${expiresAt}:${sipUser}`;
  const password = createHmac('sha1', secret).update(username).digest('base64');
  return { username, password, expiresAt };
}
