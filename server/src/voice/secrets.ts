import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';

/**
 * The voice edge's two shared secrets (issue 18), kept in `<HUILIU_DATA_DIR>/voice/secrets.json`
 * (0600, made on first start): `routeToken` authenticates Kamailio to `/api/v1/voice/*`
 * (`X-Huiliu-Voice-Token`, or HTTP Basic as `VOICE_BASIC_USER`); `authSecret` signs the agents' ephemeral SIP credentials (auth_ephemeral).
 * `npm run voice -- up` reads the same file to render Kamailio's config, so nothing is configured twice
 * and no static SIP password exists anywhere.
 */
export interface VoiceSecrets {
  routeToken: string;
  authSecret: string;
}

/** The user name Kamailio's named HTTP connection presents the route token under (HTTP Basic, RFC 7617). */
export const VOICE_BASIC_USER = 'kamailio';

const SecretsSchema = z.object({ routeToken: z.string().min(32), authSecret: z.string().min(32) });

/** The secrets file of a data dir. */
export const voiceSecretsPath = (dataDir: string) => join(dataDir, 'voice', 'secrets.json');

/**
 * Reads the data dir's voice secrets, creating them (32 random bytes each, base64url) when absent.
 * @throws Error naming the file when it exists but is not valid (a hand edit gone wrong).
 */
export function loadVoiceSecrets(dataDir: string): VoiceSecrets {
  const path = voiceSecretsPath(dataDir);
  if (existsSync(path)) {
    const parsed = SecretsSchema.safeParse(JSON.parse(readFileSync(path, 'utf8')));
    if (!parsed.success) throw new Error(`${path}: not a valid voice secrets file (routeToken, authSecret)`);
    return parsed.data;
  }
  mkdirSync(join(dataDir, 'voice'), { recursive: true, mode: 0o700 });
  const secrets: VoiceSecrets = { routeToken: randomBytes(32).toString('base64url'), authSecret: randomBytes(32).toString('base64url') };
  writeFileSync(path, JSON.stringify(secrets, null, 2) + '\n', { mode: 0o600, flag: 'wx' });
  chmodSync(path, 0o600);
  return secrets;
}
