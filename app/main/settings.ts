import { createHash, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

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
