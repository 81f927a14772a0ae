/**
 * `npm run audit:verify` (issue 17): walks the audit chain of the deployment the environment names
 * (`HUILIU_DATA_DIR`, `HUILIU_KEYS` + `HUILIU_PKCS11_*`, `HUILIU_PG_URL` as the server reads them) and
 * names the first altered, inserted or deleted entry. Exit 0 when the chain is whole, 1 when it is
 * broken, 2 when it cannot be read. Prints one JSON line, no entry content.
 */
import { existsSync } from 'node:fs';
import { loadConfig } from '../config/config';
import { createPkcs11KeyProvider } from '../keys/provider.pkcs11';
import { createLocalKeyProvider } from '../keys/provider.local';
import { createPgAuditLog } from './audit.pg';
import { createSqliteAuditLog } from './audit.sqlite';

async function main(): Promise<number> {
  const config = loadConfig({ env: process.env, argv: [], cwd: process.cwd() });
  // Verify reads a deployment; it never creates one (a mistyped HUILIU_DATA_DIR would otherwise get a
  // new database and key file).
  if (!config.pgUrl && !existsSync(config.paths.db)) throw new Error(`no database at ${config.paths.db} (check HUILIU_DATA_DIR)`);
  const keys = config.keys.mode === 'pkcs11' ? createPkcs11KeyProvider(config.keys) : createLocalKeyProvider(config.paths.keys);
  const log = config.pgUrl
    ? await createPgAuditLog({ url: config.pgUrl, keys, onMissingHead: 'open' })
    : await createSqliteAuditLog({ path: config.paths.db, keys, onMissingHead: 'open' });
  try {
    const report = await log.verify();
    process.stdout.write(`${JSON.stringify({ store: config.pgUrl ? 'postgresql' : 'sqlite', ...report })}\n`);
    return report.ok ? 0 : 1;
  } finally {
    await log.close();
    await keys.close();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`audit:verify: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(2);
  },
);
