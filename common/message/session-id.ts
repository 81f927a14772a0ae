import { z } from 'zod';

/** Channel codes (DESIGN §3). New channels get a code here first. */
export const CHANNEL_CODES = ['WB', 'AP', 'WX', 'XM', 'SP'] as const;
export const ChannelCodeSchema = z.enum(CHANNEL_CODES);
export type ChannelCode = z.infer<typeof ChannelCodeSchema>;

export const CHANNEL_NAMES: Record<ChannelCode, string> = {
  WB: 'Web chat',
  AP: 'App',
  WX: 'WeChat',
  XM: 'XMPP',
  SP: 'Voice',
};

/** Session ID = channel code (2) + epoch milliseconds (13) + random (5): 20 characters (DESIGN §3). */
export const SESSION_ID_PATTERN = /^(WB|AP|WX|XM|SP)(\d{13})(\d{5})$/;
export const SessionIdSchema = z
  .string()
  .regex(SESSION_ID_PATTERN, 'a session ID is a channel code, 13 epoch-ms digits and 5 random digits');
export type SessionId = z.infer<typeof SessionIdSchema>;

export interface SessionIdParts {
  channel: ChannelCode;
  epochMs: number;
  random: string;
}

export function parseSessionId(id: string): SessionIdParts | null {
  const m = SESSION_ID_PATTERN.exec(id);
  if (!m) return null;
  return { channel: m[1] as ChannelCode, epochMs: Number(m[2]), random: m[3]! };
}

/**
 * Formats a session ID from its parts. `random` must be 0..99999; the caller draws it from a CSPRNG
 * (the server does, see server/src/sessions/session-id.ts).
 */
export function formatSessionId(channel: ChannelCode, epochMs: number, random: number): string {
  if (!Number.isInteger(epochMs) || epochMs < 0 || epochMs > 9_999_999_999_999) {
    throw new RangeError('epochMs must fit 13 digits');
  }
  if (!Number.isInteger(random) || random < 0 || random > 99_999) {
    throw new RangeError('random must be 0..99999');
  }
  return `${channel}${String(epochMs).padStart(13, '0')}${String(random).padStart(5, '0')}`;
}

/**
 * The Redis hash tag for a session (DESIGN §3): random part + the tail of the timestamp, never the
 * channel or time prefix alone, which would pile sessions onto hot slots.
 */
export function sessionHashTag(id: string): string {
  const parts = parseSessionId(id);
  if (!parts) throw new RangeError('not a session ID');
  return `${parts.random}${String(parts.epochMs).slice(-4)}`;
}
