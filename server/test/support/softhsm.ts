import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Debian's SoftHSM2 PKCS#11 module (package softhsm2). */
export const SOFTHSM_LIB = '/usr/lib/softhsm/libsofthsm2.so';

export interface SoftHsmToken {
  lib: string;
  token: string;
  pin: string;
  /** The `HUILIU_PKCS11_*` variables that select this token (DESIGN §6); add `HUILIU_KEYS: 'pkcs11'`. */
  env: Record<string, string>;
  /** The token's directory: its files are what an attacker with the disk gets. */
  dir: string;
  cleanup(): void;
}

/**
 * A fresh SoftHSM2 token in a temporary directory, initialised with `softhsm2-util --init-token`.
 * SoftHSM2 finds its tokens through `SOFTHSM2_CONF`, read when the module initialises, once per
 * process: the first call of a test process points it at a directory of its own, and later calls
 * in the same process add tokens there (each with its own label).
 * @throws Error when Debian's softhsm2 is not installed
 */
export function createSoftHsmToken(label = `huiliu-${process.pid}-${Date.now().toString(36)}`): SoftHsmToken {
  if (!existsSync(SOFTHSM_LIB)) throw new Error(`${SOFTHSM_LIB} is missing: apt-get install softhsm2`);
  let root = process.env['SOFTHSM2_CONF'] ? join(process.env['SOFTHSM2_CONF'], '..') : undefined;
  if (!root || !root.startsWith(tmpdir())) {
    root = mkdtempSync(join(tmpdir(), 'huiliu-softhsm-'));
    mkdirSync(join(root, 'tokens'), { mode: 0o700 });
    writeFileSync(
      join(root, 'softhsm2.conf'),
      `directories.tokendir = ${join(root, 'tokens')}\nobjectstore.backend = file\nlog.level = ERROR\n`,
    );
    process.env['SOFTHSM2_CONF'] = join(root, 'softhsm2.conf');
  }
  const pin = '2468-huiliu';
  execFileSync('softhsm2-util', ['--init-token', '--free', '--label', label, '--pin', pin, '--so-pin', '1357-so'], {
    env: process.env,
    stdio: 'pipe',
  });
  const dir = join(root, 'tokens');
  return {
    lib: SOFTHSM_LIB,
    token: label,
    pin,
    dir,
    env: { HUILIU_PKCS11_LIB: SOFTHSM_LIB, HUILIU_PKCS11_TOKEN: label, HUILIU_PKCS11_PIN: pin, HUILIU_PKCS11_KEY: 'huiliu-kek' },
    cleanup() {
      try {
        execFileSync('softhsm2-util', ['--delete-token', '--token', label], { env: process.env, stdio: 'pipe' });
      } catch {
        /* already gone */
      }
      if (!existsSync(join(dir))) rmSync(root, { recursive: true, force: true });
    },
  };
}
