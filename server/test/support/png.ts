/** A PNG header of `w`×`h` (signature + IHDR) and `extra` zero bytes: what the image checks read; no pixel is decoded. */
export function pngBytes(w = 4, h = 3, extra = 16): Buffer {
  const b = Buffer.alloc(33 + extra);
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]).copy(b, 0);
  b.writeUInt32BE(13, 8);
  b.write('IHDR', 12, 'latin1');
  b.writeUInt32BE(w, 16);
  b.writeUInt32BE(h, 20);
  return b;
}
