import { HuiliuError } from '../../../common/errors/codes';
import { canonicalImageMime, readImageHeader } from './image';
import type { AttachmentMime } from './store';

/** What a file's bytes say it is (issue 13), by magic bytes only — never by its name or declared type. */
export type FileVerdict =
  | { kind: 'accepted'; mime: AttachmentMime; width: number; height: number }
  /** A program or script: `what` names the format (for logs; never the file's content). */
  | { kind: 'executable'; what: string }
  | { kind: 'unknown' };

const starts = (b: Buffer, bytes: readonly number[], at = 0) => b.length >= at + bytes.length && bytes.every((x, i) => b[at + i] === x);
const ascii = (b: Buffer, s: string, at = 0) => b.length >= at + s.length && b.toString('latin1', at, at + s.length) === s;

/**
 * Program and script signatures, checked first: an executable is refused as such whatever it claims
 * to be. PE/DOS `MZ`; ELF; Mach-O (32/64-bit, both byte orders) and fat binaries / Java classes
 * (`CAFEBABE`, shared by both); WebAssembly; Android DEX; a `#!` script.
 */
const EXECUTABLES: readonly { what: string; test: (b: Buffer) => boolean }[] = [
  { what: 'pe', test: (b) => ascii(b, 'MZ') },
  { what: 'elf', test: (b) => starts(b, [0x7f, 0x45, 0x4c, 0x46]) },
  { what: 'mach-o', test: (b) => [0xfeedface, 0xfeedfacf, 0xcefaedfe, 0xcffaedfe].some((m) => b.length >= 4 && b.readUInt32BE(0) === m) },
  { what: 'java-class-or-fat-mach-o', test: (b) => starts(b, [0xca, 0xfe, 0xba, 0xbe]) },
  { what: 'wasm', test: (b) => starts(b, [0x00, 0x61, 0x73, 0x6d]) },
  { what: 'dex', test: (b) => ascii(b, 'dex\n') },
  { what: 'script', test: (b) => ascii(b, '#!') || starts(b, [0xef, 0xbb, 0xbf, 0x23, 0x21]) },
];

/** Entries that make a ZIP a program package: a Java archive (.jar, .war), an Android package (.apk, .aab). */
const PACKAGE_ENTRIES = ['META-INF/MANIFEST.MF', 'AndroidManifest.xml', 'classes.dex', 'WEB-INF/'];

/**
 * Classifies uploaded bytes (issue 13): an executable (see EXECUTABLES; a ZIP that holds a Java or
 * Android package's entries), or one of the accepted kinds — a PNG, JPEG, WebP or GIF image by its
 * header (attachments/image.ts, with its pixel size), a PDF (`%PDF-`, ISO 32000-2 §7.5.2), plain
 * text (well-formed UTF-8, RFC 3629, with no NUL) — or `unknown`.
 */
export function classifyFile(b: Buffer): FileVerdict {
  for (const e of EXECUTABLES) if (e.test(b)) return { kind: 'executable', what: e.what };
  if (ascii(b, 'PK\u0003\u0004')) {
    // Entry names are stored in clear in the local headers and the central directory.
    const names = b.toString('latin1');
    return PACKAGE_ENTRIES.some((n) => names.includes(n)) ? { kind: 'executable', what: 'zip-package' } : { kind: 'unknown' };
  }
  const image = readImageHeader(b);
  if (image) return { kind: 'accepted', mime: image.mime, width: image.width, height: image.height };
  if (ascii(b, '%PDF-')) return { kind: 'accepted', mime: 'application/pdf', width: 0, height: 0 };
  if (b.length > 0 && !b.includes(0) && isUtf8(b)) return { kind: 'accepted', mime: 'text/plain', width: 0, height: 0 };
  return { kind: 'unknown' };
}

function isUtf8(b: Buffer): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(b);
    return true;
  } catch {
    return false;
  }
}

/** A declared Content-Type as one of the types we name (`image/jpg` → `image/jpeg`), or null for any other. */
export function canonicalFileMime(declared: string | undefined): AttachmentMime | null {
  if (!declared) return null;
  const image = canonicalImageMime(declared);
  if (image) return image;
  const bare = declared.split(';')[0]!.trim().toLowerCase();
  return bare === 'application/pdf' || bare === 'text/plain' ? bare : null;
}

/**
 * Checks an upload's bytes against what may be sent (issue 13): an executable is refused whatever it
 * claims; the bytes must be an accepted type among `allowed`; a declared type that is one of ours
 * must match the bytes (an octet-stream or any other declared type is judged by the bytes alone).
 * @throws HuiliuError UPLOAD_EXECUTABLE, UPLOAD_TYPE_REFUSED
 */
export function checkUpload(
  bytes: Buffer,
  declared: string | undefined,
  allowed: readonly string[],
): Extract<FileVerdict, { kind: 'accepted' }> {
  const verdict = classifyFile(bytes);
  if (verdict.kind === 'executable') throw new HuiliuError('UPLOAD_EXECUTABLE');
  if (verdict.kind === 'unknown' || !allowed.includes(verdict.mime)) throw new HuiliuError('UPLOAD_TYPE_REFUSED');
  const claimed = canonicalFileMime(declared);
  if (claimed && claimed !== verdict.mime) throw new HuiliuError('UPLOAD_TYPE_REFUSED', 'The file is not of the type it declares.');
  return verdict;
}

/**
 * What a name must not carry: C0 and C1 controls, line and paragraph separators, bidi controls (they
 * can make `exe.txt` show as `txt.exe`), zero-width spaces and BOMs. Joiners (ZWJ, ZWNJ) stay: scripts
 * and emoji sequences need them.
 */
const INVISIBLE = /[\p{Cc}\u2028\u2029\u061c\u200b\u200e\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/gu;

/**
 * A file name as the customer gave it, made safe to store and show (issue 13): the last path segment
 * only (`/` and `\\` both, also percent-encoded as `%2F` / `%5C`, issue 17), controls and invisible format characters (bidi overrides…) removed, blanks
 * collapsed, at most `max` UTF-16 units cut by grapheme, and `file` when nothing is left.
 */
export function cleanFileName(raw: string | undefined, max = 120): string {
  const last = (raw ?? '').split(/[/\\]|%2f|%5c/i).pop() ?? '';
  const clean = last.replace(INVISIBLE, '').replace(/\s+/g, ' ').trim();
  if (!clean || clean === '.' || clean === '..') return 'file';
  let out = '';
  for (const { segment } of new Intl.Segmenter(undefined, { granularity: 'grapheme' }).segment(clean)) {
    if (out.length + segment.length > max) break;
    out += segment;
  }
  return out || 'file';
}
