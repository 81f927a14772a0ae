import { createHash, X509Certificate } from 'node:crypto';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { AcceleratorSchema } from '../../common/ipc/desktop-bridge';

export interface DesktopSettings {
  /** The companion server the workstation talks to. */
  serverUrl: URL;
  /** SHA-256 of the server's CA certificate (DER), in Electron's `sha256/<base64>` form. */
  caFingerprint: string | null;
}

/** Electron's Certificate.fingerprint form for a PEM certificate. */
export function electronFingerprint(pem: string): string {
  return `sha256/${createHash('sha256').update(new X509Certificate(pem).raw).digest('base64')}`;
}

/**
 * Where the workstation connects and which CA it pins. `HUILIU_SERVER_URL` (default the local
 * companion server) and `HUILIU_CA_FILE` (default the local server's generated CA under
 * `HUILIU_DATA_DIR`); a server with a publicly trusted certificate needs no CA file.
 */
export function resolveSettings(
  env: Record<string, string | undefined>,
  cwd: string,
  readFile: (p: string) => string = (p) => readFileSync(p, 'utf8'),
): DesktopSettings {
  const serverUrl = new URL(env.HUILIU_SERVER_URL ?? 'https://127.0.0.1:8443');
  if (serverUrl.protocol !== 'https:') throw new Error('HUILIU_SERVER_URL: the workstation only talks HTTPS');
  const caFile = env.HUILIU_CA_FILE ?? join(env.HUILIU_DATA_DIR ?? join(cwd, 'var'), 'tls', 'ca.pem');
  let caFingerprint: string | null;
  try {
    caFingerprint = electronFingerprint(readFile(caFile));
  } catch {
    caFingerprint = null; // no local CA: rely on the system trust store
  }
  return { serverUrl, caFingerprint };
}

/** The hotkey that brings the workstation to the front from any app (issue 15). */
export const DEFAULT_FOCUS_HOTKEY = 'CommandOrControl+Shift+H';
/** Chromium zoom levels (each step ×1.2): −3 ≈ 58 %, +5 ≈ 249 %. */
export const ZOOM_LEVEL_MIN = -3;
export const ZOOM_LEVEL_MAX = 5;

/** What the workstation remembers between runs, per OS user (`userData/preferences.json`). */
export interface DesktopPreferences {
  zoomLevel: number;
  focusHotkey: string;
}

const StrictPreferencesSchema = z.object({
  zoomLevel: z.number().min(ZOOM_LEVEL_MIN).max(ZOOM_LEVEL_MAX),
  focusHotkey: AcceleratorSchema,
});
// Reading is forgiving field by field; changing is strict.
const PreferencesSchema = z.object({
  zoomLevel: StrictPreferencesSchema.shape.zoomLevel.catch(0),
  focusHotkey: StrictPreferencesSchema.shape.focusHotkey.catch(DEFAULT_FOCUS_HOTKEY),
});

export interface PreferenceFiles {
  read(path: string): string;
  /** Writes atomically (a temp file renamed over the old one), so a crash never leaves half a file. */
  write(path: string, text: string): void;
}

const nodeFiles: PreferenceFiles = {
  read: (p) => readFileSync(p, 'utf8'),
  write: (p, text) => {
    const tmp = `${p}.${process.pid}.tmp`;
    writeFileSync(tmp, text, { mode: 0o600 });
    renameSync(tmp, p);
  },
};

/**
 * The remembered preferences: read once, each field checked on its own (a bad or missing field falls
 * back to its default, a broken file to all defaults), written through on every change.
 */
export class PreferenceStore {
  #prefs: DesktopPreferences;
  readonly #file: string;
  readonly #files: PreferenceFiles;

  constructor(file: string, files: PreferenceFiles = nodeFiles) {
    this.#file = file;
    this.#files = files;
    let raw: unknown = {};
    try {
      raw = JSON.parse(files.read(file));
    } catch {
      // first run or a damaged file: defaults
    }
    const parsed = PreferencesSchema.safeParse(raw && typeof raw === 'object' ? raw : {});
    this.#prefs = parsed.success ? parsed.data : { zoomLevel: 0, focusHotkey: DEFAULT_FOCUS_HOTKEY };
  }

  get(): Readonly<DesktopPreferences> {
    return { ...this.#prefs };
  }

  /** Changes and saves preferences; a value out of range throws (ZodError) and nothing is written. */
  set(change: Partial<DesktopPreferences>): void {
    this.#prefs = StrictPreferencesSchema.parse({ ...this.#prefs, ...change });
    this.#files.write(this.#file, `${JSON.stringify(this.#prefs, null, 2)}\n`);
  }
}
