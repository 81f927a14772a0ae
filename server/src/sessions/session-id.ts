import { randomInt } from 'node:crypto';
import { formatSessionId, type ChannelCode } from '../../../common/message/session-id';

/** 0..99999 from a CSPRNG (DESIGN §3). Tests inject their own to force collisions. */
export type RandomSource = () => number;
export const cryptoRandom: RandomSource = () => randomInt(100_000);

export function newSessionId(channel: ChannelCode, now: number = Date.now(), random: RandomSource = cryptoRandom): string {
  return formatSessionId(channel, now, random());
}

export class SessionIdExhaustedError extends Error {
  constructor(attempts: number) {
    super(`no free session ID after ${attempts} attempts`);
  }
}

/**
 * Mints a session ID that `tryInsert` accepts. `tryInsert` returns false when the ID is taken (the
 * store's primary key caught a collision); we then draw again. Five random digits give 100,000 IDs
 * per channel per millisecond, so a retry is rare and a run of eight is practically impossible.
 */
export function mintSessionId(
  channel: ChannelCode,
  tryInsert: (id: string) => boolean,
  options: { now?: () => number; random?: RandomSource; maxAttempts?: number } = {},
): { id: string; attempts: number } {
  const now = options.now ?? Date.now;
  const random = options.random ?? cryptoRandom;
  const maxAttempts = options.maxAttempts ?? 8;
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    const id = newSessionId(channel, now(), random);
    if (tryInsert(id)) return { id, attempts: attempt };
  }
  throw new SessionIdExhaustedError(maxAttempts);
}
