import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Writes a `HUILIU_CONFIG` JSON file in a fresh temp dir and returns its path. */
export function writeConfigFile(config: unknown): string {
  const path = join(mkdtempSync(join(tmpdir(), 'huiliu-config-')), 'huiliu.json');
  writeFileSync(path, JSON.stringify(config));
  return path;
}

/**
 * `env` with the AI tier's auto-answer on or off (issue 10): tests of the human path (offers, replies,
 * limits) switch it off, so a demo customer's first message is offered to an agent as before; the AI
 * tier's own tests (`aiTier: true`) keep the running default. A `HUILIU_CONFIG` the test gives is
 * kept, with `ai.autoAnswer.enabled` added when it does not say.
 */
export function withAiTier(env: Record<string, string>, aiTier: boolean): Record<string, string> {
  if (aiTier) return env;
  const given = env['HUILIU_CONFIG'] ? (JSON.parse(readFileSync(env['HUILIU_CONFIG'], 'utf8')) as Record<string, unknown>) : {};
  const ai = (given['ai'] ?? {}) as Record<string, unknown>;
  const autoAnswer = { enabled: false, ...(ai['autoAnswer'] as object | undefined) };
  return { ...env, HUILIU_CONFIG: writeConfigFile({ ...given, ai: { ...ai, autoAnswer } }) };
}
