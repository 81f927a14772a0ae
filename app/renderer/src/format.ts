import { CHANNEL_NAMES, type ChannelCode } from '../../../common/message/session-id';

export const channelName = (c: ChannelCode) => CHANNEL_NAMES[c];

export function waitedFor(iso: string, now: number): string {
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m`;
  return `${Math.floor(m / 60)}h ${m % 60}m`;
}

/**
 * A message's time for the bubble: hours and minutes for today (in the viewer's time zone), with the
 * date in front for any other day (and the year when it is not this year). Pass `receivedAt`, the
 * server's time of record; a sender's `sentAt` comes from a device clock and is never shown (C12).
 */
export function stamp(iso: string, now: number = Date.now()): string {
  const d = new Date(iso);
  const today = new Date(now);
  const time = d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  if (d.toDateString() === today.toDateString()) return time;
  const date = d.toLocaleDateString([], {
    month: 'short',
    day: 'numeric',
    ...(d.getFullYear() !== today.getFullYear() ? { year: 'numeric' as const } : {}),
  });
  return `${date} ${time}`;
}
