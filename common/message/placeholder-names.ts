import type { ChannelCode } from './session-id';

/**
 * The names the server gives a customer until a channel tells theirs (issue 15, DESIGN §6 wire
 * contracts): they are stored and sent as these English words (`customerName`, `context.customer.name`,
 * merge members), which stay on the wire for API clients, and they are stable codes too — the desk
 * shows them in its language (`desk:customerNames.*`, `app/renderer/src/customer-name.ts`) and the AI
 * does not greet with them. `Unknown customer`: a session whose customer row is gone (erased).
 */
export const PLACEHOLDER_NAMES = { WB: 'Web visitor', WX: 'WeChat user', XM: 'XMPP user', AP: 'App user' } as const satisfies Partial<
  Record<ChannelCode, string>
>;

/** The name shown for a session whose customer is not there (erased, or a row missing). */
export const UNKNOWN_CUSTOMER = 'Unknown customer';

/** The name a new customer of `channel` starts with: the channel's word, else `<CODE> customer`. */
export function placeholderName(channel: ChannelCode): string {
  return (PLACEHOLDER_NAMES as Partial<Record<ChannelCode, string>>)[channel] ?? `${channel} customer`;
}

/** What a placeholder stands for: a channel's new customer, or an unknown one; null for a real name. */
export type Placeholder = { kind: 'channel'; channel: ChannelCode } | { kind: 'unknown' };

/** Whether `name` is a placeholder (`placeholderName` / `UNKNOWN_CUSTOMER`), and which; exact match only. */
export function placeholderOf(name: string): Placeholder | null {
  if (name === UNKNOWN_CUSTOMER) return { kind: 'unknown' };
  for (const [channel, word] of Object.entries(PLACEHOLDER_NAMES))
    if (word === name) return { kind: 'channel', channel: channel as ChannelCode };
  const m = /^([A-Z]{2}) customer$/.exec(name);
  return m ? { kind: 'channel', channel: m[1] as ChannelCode } : null;
}
