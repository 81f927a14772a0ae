import { isIP } from 'node:net';

/**
 * True for a loopback IP address: 127.0.0.0/8, `::1` and `::ffff:127.x` (brackets allowed). Host names
 * (`localhost`) are false: what they resolve to is not checked here. Used where plain HTTP is allowed
 * because nothing leaves the machine (the voice edge's hop, docs/voice.md).
 */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '');
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) === 6) return h === '::1' || /^::ffff:127\./i.test(h);
  return false;
}
