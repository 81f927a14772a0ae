import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Writes a `HUILIU_CONFIG` JSON file in a fresh temp dir and returns its path. */
export function writeConfigFile(config: unknown): string {
  const path = join(mkdtempSync(join(tmpdir(), 'huiliu-config-')), 'huiliu.json');
  writeFileSync(path, JSON.stringify(config));
  return path;
}
