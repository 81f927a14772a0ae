import { HuiliuError } from '../../../common/errors/codes';
import { IMAGE_MIMES, type ImageMime, type ImageUpload } from '../../../common/api/attachments';

/** What an image's first bytes say it is, and its size in pixels from its header (no pixel is decoded). */
export interface ImageHeader {
  mime: ImageMime;
  width: number;
  height: number;
}

/** A checked image: decoded bytes whose magic bytes match the declared type. */
export interface CheckedImage extends ImageHeader {
  bytes: Buffer;
  /** Decoded size in bytes. */
  size: number;
}

export interface ImageLimits {
  /** Largest decoded image in bytes. */
  maxBytes: number;
  /** Largest width × height: a small file can declare a huge canvas that would take gigabytes to decode. */
  maxPixels: number;
}

const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const ascii = (b: Buffer, at: number, s: string) => b.length >= at + s.length && b.toString('latin1', at, at + s.length) === s;

/**
 * Reads an image's type from its magic bytes and its dimensions from its header: PNG (signature +
 * IHDR), JPEG (SOI, then the first SOFn marker), GIF (GIF87a/GIF89a logical screen), WebP (RIFF/WEBP
 * with a VP8, VP8L or VP8X chunk). Never decodes pixels.
 * @returns null when the bytes are none of these or their header is cut short or damaged
 */
export function readImageHeader(b: Buffer): ImageHeader | null {
  if (b.length >= 24 && b.subarray(0, 8).equals(PNG) && ascii(b, 12, 'IHDR')) {
    return sized('image/png', b.readUInt32BE(16), b.readUInt32BE(20));
  }
  if (b.length >= 10 && (ascii(b, 0, 'GIF87a') || ascii(b, 0, 'GIF89a'))) {
    return sized('image/gif', b.readUInt16LE(6), b.readUInt16LE(8));
  }
  if (b.length >= 30 && ascii(b, 0, 'RIFF') && ascii(b, 8, 'WEBP')) return webpHeader(b);
  if (b.length >= 4 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return jpegHeader(b);
  return null;
}

function sized(mime: ImageMime, width: number, height: number): ImageHeader | null {
  return width > 0 && height > 0 ? { mime, width, height } : null;
}

function webpHeader(b: Buffer): ImageHeader | null {
  if (ascii(b, 12, 'VP8 ')) {
    // Lossy bitstream (RFC 6386 §9.1): 3-byte frame tag, start code 9d 01 2a, then 14-bit width and height.
    if (b[23] !== 0x9d || b[24] !== 0x01 || b[25] !== 0x2a) return null;
    return sized('image/webp', b.readUInt16LE(26) & 0x3fff, b.readUInt16LE(28) & 0x3fff);
  }
  if (ascii(b, 12, 'VP8L')) {
    // Lossless (WebP lossless spec §2): signature 0x2f, then width−1 and height−1 in 14 bits each.
    if (b[20] !== 0x2f) return null;
    const bits = b.readUInt32LE(21);
    return sized('image/webp', (bits & 0x3fff) + 1, ((bits >>> 14) & 0x3fff) + 1);
  }
  if (ascii(b, 12, 'VP8X')) {
    // Extended: canvas width−1 and height−1 in 24 bits each at offsets 24 and 27.
    return sized('image/webp', b.readUIntLE(24, 3) + 1, b.readUIntLE(27, 3) + 1);
  }
  return null;
}

function jpegHeader(b: Buffer): ImageHeader | null {
  let at = 2;
  while (at + 4 <= b.length) {
    if (b[at] !== 0xff) return null;
    const marker = b[at + 1]!;
    // Fill bytes, and the markers without a length (TEM, RSTn).
    if (marker === 0xff) {
      at += 1;
      continue;
    }
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      at += 2;
      continue;
    }
    if (marker === 0xd9 || marker === 0xda) return null; // end of image or scan before any frame header
    const length = b.readUInt16BE(at + 2);
    if (length < 2) return null;
    // SOF0–SOF15 but DHT (C4), JPG (C8) and DAC (CC): precision (1), height (2), width (2).
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      if (at + 9 > b.length) return null;
      return sized('image/jpeg', b.readUInt16BE(at + 7), b.readUInt16BE(at + 5));
    }
    at += 2 + length;
  }
  return null;
}

/** A declared type as clients write it (`IMAGE/PNG`, `image/jpg`, `image/jpeg; q=1`) → one of IMAGE_MIMES, or null. */
export function canonicalImageMime(declared: string): ImageMime | null {
  const bare = declared.split(';')[0]!.trim().toLowerCase();
  const mime = bare === 'image/jpg' || bare === 'image/pjpeg' ? 'image/jpeg' : bare;
  return (IMAGE_MIMES as readonly string[]).includes(mime) ? (mime as ImageMime) : null;
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const DATA_URL = /^data:[\w.+-]+\/[\w.+-]+(;[\w-]+=[\w.-]+)*;base64,/i;

/** Decoded size of standard base64 text without decoding it. */
const decodedLength = (b64: string) => Math.floor((b64.length * 3) / 4) - (b64.endsWith('==') ? 2 : b64.endsWith('=') ? 1 : 0);

const detail = (path: string, message: string) => [{ path, message }];

/**
 * Checks an uploaded image (issue 10): standard base64 (line breaks and a leading `data:…;base64,`
 * are tolerated), a declared type among IMAGE_MIMES, bytes of that same type by their magic bytes,
 * at most `limits.maxBytes` decoded bytes and `limits.maxPixels` pixels by its header. Details name
 * the field (`image.base64`, `image.mime`) and never repeat what was sent.
 * @param field the request field the image came in (`image`), used in the details' paths
 * @throws HuiliuError VALIDATION_FAILED (not base64, empty), UNSUPPORTED_MEDIA_TYPE (a type not
 *   accepted, bytes that are no accepted image, bytes of another type than declared, a damaged header),
 *   PAYLOAD_TOO_LARGE (over `maxBytes`, or over `maxPixels`)
 */
export function checkImage(upload: ImageUpload, limits: ImageLimits, field = 'image'): CheckedImage {
  const declared = canonicalImageMime(upload.mime);
  if (!declared) {
    throw new HuiliuError(
      'UNSUPPORTED_MEDIA_TYPE',
      'This image type is not accepted.',
      detail(`${field}.mime`, `is not one of ${IMAGE_MIMES.join(', ')}`),
    );
  }
  const b64 = upload.base64.replace(DATA_URL, '').replace(/\s+/g, '');
  if (!BASE64.test(b64) || b64.length % 4 === 1) {
    throw new HuiliuError('VALIDATION_FAILED', undefined, detail(`${field}.base64`, 'is not standard base64 (RFC 4648 §4)'));
  }
  // Refused before decoding: a large body costs no second copy.
  if (decodedLength(b64) > limits.maxBytes) throw tooLarge(field, decodedLength(b64), limits.maxBytes);
  const bytes = Buffer.from(b64, 'base64');
  if (bytes.length === 0) throw new HuiliuError('VALIDATION_FAILED', undefined, detail(`${field}.base64`, 'is empty'));
  if (bytes.length > limits.maxBytes) throw tooLarge(field, bytes.length, limits.maxBytes);
  const header = readImageHeader(bytes);
  if (!header) {
    throw new HuiliuError(
      'UNSUPPORTED_MEDIA_TYPE',
      'The bytes are not an accepted image.',
      detail(`${field}.base64`, 'is not a PNG, JPEG, WebP or GIF image (or its header is damaged)'),
    );
  }
  if (header.mime !== declared) {
    throw new HuiliuError(
      'UNSUPPORTED_MEDIA_TYPE',
      'The image is not of the type it declares.',
      detail(`${field}.mime`, `does not match the bytes, which are ${header.mime}`),
    );
  }
  if (header.width * header.height > limits.maxPixels) {
    throw new HuiliuError(
      'PAYLOAD_TOO_LARGE',
      'The image has too many pixels.',
      detail(field, `is ${header.width}×${header.height} pixels; at most ${limits.maxPixels} pixels are accepted`),
    );
  }
  return { ...header, bytes, size: bytes.length };
}

function tooLarge(field: string, size: number, max: number): HuiliuError {
  return new HuiliuError(
    'PAYLOAD_TOO_LARGE',
    'The image is too large.',
    detail(`${field}.base64`, `decodes to ${size} bytes; at most ${max} are accepted`),
  );
}

/** A file name extension for an accepted type (downloads name the file by it). */
export const IMAGE_EXTENSIONS: Record<ImageMime, string> = {
  'image/png': 'png',
  'image/jpeg': 'jpg',
  'image/webp': 'webp',
  'image/gif': 'gif',
};
