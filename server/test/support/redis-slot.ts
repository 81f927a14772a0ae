/**
 * Redis Cluster key → slot, as Redis computes it (cluster spec, "Key distribution model"):
 * CRC16/XMODEM (poly 0x1021, init 0, no reflection, no final xor) of the key, or of its hash tag —
 * the bytes between the first `{` and the next `}` when that is non-empty — modulo 16384.
 * Written here because the project does not depend on a Redis client yet (tests only).
 */
export const REDIS_SLOTS = 16_384;

const TABLE = (() => {
  const t = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let crc = i << 8;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
    t[i] = crc;
  }
  return t;
})();

/** CRC16/XMODEM of `data` (UTF-8 for a string); Redis's test vector: "123456789" → 0x31C3. */
export function crc16xmodem(data: string | Uint8Array): number {
  const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
  let crc = 0;
  for (const byte of bytes) crc = ((crc << 8) & 0xffff) ^ TABLE[((crc >> 8) ^ byte) & 0xff]!;
  return crc;
}

/** The cluster slot of `key`, 0..16383, honouring a `{hash tag}`. */
export function redisKeySlot(key: string): number {
  const open = key.indexOf('{');
  if (open >= 0) {
    const close = key.indexOf('}', open + 1);
    if (close > open + 1) return crc16xmodem(key.slice(open + 1, close)) % REDIS_SLOTS;
  }
  return crc16xmodem(key) % REDIS_SLOTS;
}
