import { createHash } from 'node:crypto';

/** Longest caller id kept (characters): a user part longer than this is not a phone number or a name we keep. */
const CALLER_MAX = 128;

/**
 * Who is calling, from the From URI Kamailio passed (RFC 3261 §19.1, RFC 3966 `tel:`): the URI's user
 * part, percent-decoded, for `sip:`/`sips:` URIs, or the number of a `tel:` URI. A phone number
 * (digits, optionally with a leading `+` and visual separators removed) is also returned as `phone`.
 * Never throws: anything unparseable gives `anonymous` (RFC 3323's anonymous caller), so the call is
 * still routed. This is the only SIP text the server reads; Kamailio parsed the message.
 */
export function callerOf(fromUri: string | undefined): { externalId: string; phone?: string } {
  const raw = (fromUri ?? '').trim();
  // "Name" <sip:user@host;params> or a bare URI.
  const bracketed = /<([^>]*)>/.exec(raw);
  const uri = (bracketed ? bracketed[1]! : raw).trim();
  const m = /^(sips?|tel):([^;?>]*)/i.exec(uri);
  if (!m) return { externalId: 'anonymous' };
  const scheme = m[1]!.toLowerCase();
  const rest = m[2]!;
  let user = scheme === 'tel' ? rest : rest.includes('@') ? rest.slice(0, rest.lastIndexOf('@')) : '';
  // A password in the userinfo (sip:user:password@host) is never kept.
  if (scheme !== 'tel' && user.includes(':')) user = user.slice(0, user.indexOf(':'));
  try {
    user = decodeURIComponent(user);
  } catch {
    // Malformed %-escapes (RFC 4475 esc02-style): keep the text as it came.
  }
  // Control characters and NULs (RFC 4475 escnull) never reach the store.
  user = Array.from(user)
    .filter((c) => {
      const code = c.codePointAt(0)!;
      return code > 0x1f && code !== 0x7f;
    })
    .join('')
    .trim();
  if (!user || user.length > CALLER_MAX || /^anonymous$/i.test(user)) return { externalId: 'anonymous' };
  const digits = user.replace(/[\s().-]/g, '');
  if (/^\+?\d{3,20}$/.test(digits)) return { externalId: `tel:${digits}`, phone: digits };
  return { externalId: `sip:${user.toLowerCase()}` };
}

/** A Call-ID as an idempotency key: SHA-256, hex, 32 characters (Call-IDs may hold any token character). */
export const callKey = (callId: string) => createHash('sha256').update(callId).digest('hex').slice(0, 32);
