import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HuiliuError } from '../../../common/errors/codes';
import { canonicalImageMime, checkImage, readImageHeader } from './image';

const fixture = (name: string) => readFileSync(join(import.meta.dirname, '__fixtures__', name));
const limits = { maxBytes: 5 * 1024 * 1024, maxPixels: 40_000_000 };

/** The HuiliuError `fn` throws, for assertions on its code and details. */
function refusal(fn: () => unknown): HuiliuError {
  try {
    fn();
  } catch (error) {
    if (error instanceof HuiliuError) return error;
    throw error;
  }
  throw new Error('expected a refusal');
}

describe('image magic bytes and headers', () => {
  it.each([
    ['tiny.png', 'image/png'],
    ['tiny.jpg', 'image/jpeg'],
    ['tiny-progressive.jpg', 'image/jpeg'],
    ['tiny.gif', 'image/gif'],
    ['tiny-lossy.webp', 'image/webp'],
    ['tiny-lossless.webp', 'image/webp'],
    ['tiny-alpha.webp', 'image/webp'],
  ])('reads %s as %s, 7×5 pixels', (file, mime) => {
    expect(readImageHeader(fixture(file))).toEqual({ mime, width: 7, height: 5 });
  });

  it('knows no type in text, SVG, a PDF, a BMP or a cut-off PNG', () => {
    expect(readImageHeader(Buffer.from('hello world, not an image at all'))).toBeNull();
    expect(readImageHeader(Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'))).toBeNull();
    expect(readImageHeader(Buffer.from('%PDF-1.7\n%âãÏÓ\n1 0 obj'))).toBeNull();
    expect(readImageHeader(Buffer.from('BM6\u0000\u0000\u0000\u0000\u0000\u0000\u00006\u0000\u0000\u0000(\u0000'))).toBeNull();
    expect(readImageHeader(fixture('tiny.png').subarray(0, 20))).toBeNull();
  });

  it('canonicalises declared types as clients write them', () => {
    expect(canonicalImageMime('IMAGE/PNG')).toBe('image/png');
    expect(canonicalImageMime('image/jpg')).toBe('image/jpeg');
    expect(canonicalImageMime(' image/jpeg; q=1 ')).toBe('image/jpeg');
    expect(canonicalImageMime('image/svg+xml')).toBeNull();
    expect(canonicalImageMime('text/html')).toBeNull();
  });
});

describe('checkImage', () => {
  const png = fixture('tiny.png');

  it('accepts a PNG declared as PNG and returns its bytes, size and dimensions', () => {
    const checked = checkImage({ base64: png.toString('base64'), mime: 'image/png' }, limits);
    expect(checked).toMatchObject({ mime: 'image/png', width: 7, height: 5, size: png.length });
    expect(checked.bytes.equals(png)).toBe(true);
  });

  it('tolerates a data: URL prefix and MIME line breaks', () => {
    const wrapped = png
      .toString('base64')
      .replace(/(.{76})/g, '$1\r\n')
      .trim();
    const checked = checkImage({ base64: `data:image/png;base64,${wrapped}`, mime: 'image/png' }, limits);
    expect(checked.bytes.equals(png)).toBe(true);
  });

  it('refuses bytes of another type than declared (a JPEG sent as PNG), naming image.mime', () => {
    const err = refusal(() => checkImage({ base64: fixture('tiny.jpg').toString('base64'), mime: 'image/png' }, limits));
    expect(err.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    expect(err.status).toBe(415);
    expect(err.details).toEqual([{ path: 'image.mime', message: 'does not match the bytes, which are image/jpeg' }]);
  });

  it('refuses an HTML page declared as an image', () => {
    const err = refusal(() =>
      checkImage({ base64: Buffer.from('<html><script>x</script></html>').toString('base64'), mime: 'image/gif' }, limits),
    );
    expect(err.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    expect((err.details as { path: string }[])[0]!.path).toBe('image.base64');
  });

  it('refuses a declared type that is not accepted (SVG) before decoding anything', () => {
    const err = refusal(() => checkImage({ base64: 'PHN2Zz4=', mime: 'image/svg+xml' }, limits));
    expect(err.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    expect((err.details as { path: string }[])[0]!.path).toBe('image.mime');
  });

  it.each([
    ['base64url characters', png.toString('base64url').replace(/^./, '_')],
    ['a stray symbol', `${png.toString('base64').slice(0, 8)}!${png.toString('base64').slice(8)}`],
    ['a length no base64 has', 'QUJDRA=x'],
  ])('refuses text that is not standard base64 (%s) as VALIDATION_FAILED', (_label, base64) => {
    const err = refusal(() => checkImage({ base64, mime: 'image/png' }, limits));
    expect(err.code).toBe('VALIDATION_FAILED');
    expect(err.details).toEqual([{ path: 'image.base64', message: 'is not standard base64 (RFC 4648 §4)' }]);
  });

  it('refuses an image over the byte limit (413), also before decoding it', () => {
    const small = { maxBytes: png.length - 1, maxPixels: limits.maxPixels };
    const err = refusal(() => checkImage({ base64: png.toString('base64'), mime: 'image/png' }, small));
    expect(err.code).toBe('PAYLOAD_TOO_LARGE');
    expect(err.status).toBe(413);
    const huge = refusal(() => checkImage({ base64: 'A'.repeat(8 * 1024 * 1024), mime: 'image/png' }, limits));
    expect(huge.code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('refuses a small file that declares a huge canvas (a decompression bomb) by its header', () => {
    const bomb = Buffer.from(png);
    bomb.writeUInt32BE(50_000, 16);
    bomb.writeUInt32BE(50_000, 20);
    const err = refusal(() => checkImage({ base64: bomb.toString('base64'), mime: 'image/png' }, limits));
    expect(err.code).toBe('PAYLOAD_TOO_LARGE');
    expect(err.details).toEqual([{ path: 'image', message: 'is 50000×50000 pixels; at most 40000000 pixels are accepted' }]);
  });
});
