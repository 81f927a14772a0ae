import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/** WenQuanYi Micro Hei (Debian `fonts-wqy-microhei`): one font with Latin and CJK glyphs. */
export const WQY_FONT = '/usr/share/fonts/truetype/wqy/wqy-microhei.ttc';

/** True when ImageMagick's `convert` and the font are here (Debian `imagemagick`, `fonts-wqy-microhei`). */
export function canRenderText(): boolean {
  if (!existsSync(WQY_FONT)) return false;
  try {
    execFileSync('convert', ['-version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export interface TextImageOptions {
  /** Font size in points (at ImageMagick's default 72 dpi, pixels). Default 28: a phone screenshot's body text. */
  pointsize?: number;
  /** Degrees, clockwise; 0 for a straight image. */
  rotate?: number;
  /** Gaussian noise strength (ImageMagick `-attenuate`), 0 for none. */
  noise?: number;
  /** Blur sigma in pixels, 0 for none. */
  blur?: number;
  /** `png` (default) or `jpeg` (quality 75, its block artefacts part of the degradation). */
  format?: 'png' | 'jpeg';
}

/**
 * Renders `text` (lines separated by `\n`) black on white with WenQuanYi Micro Hei and ImageMagick,
 * with a 30-pixel margin, optionally rotated, noisy and blurred like a photo of a screen: the test
 * images of the OCR tests and `npm run eval -- ocr`. Deterministic for the same options (the noise
 * is seeded).
 * @returns the encoded image
 */
export function renderTextImage(text: string, options: TextImageOptions = {}): Buffer {
  const { pointsize = 28, rotate = 0, noise = 0, blur = 0, format = 'png' } = options;
  // label: reads `%` as an escape (image properties) and `\n` as a line break: escape the percent signs.
  const label = `label:${text.replace(/%/g, '%%')}`;
  const args = ['-seed', '42', '-background', 'white', '-fill', 'black', '-font', WQY_FONT, '-pointsize', String(pointsize), label];
  args.push('-bordercolor', 'white', '-border', '30');
  if (rotate !== 0) args.push('-background', 'white', '-rotate', String(rotate));
  if (noise > 0) args.push('-attenuate', String(noise), '+noise', 'Gaussian');
  if (blur > 0) args.push('-blur', `0x${blur}`);
  args.push('+repage', '-colorspace', 'Gray');
  if (format === 'jpeg') args.push('-quality', '75', 'jpeg:-');
  else args.push('png:-');
  return execFileSync('convert', args, { maxBuffer: 64 * 1024 * 1024 });
}
