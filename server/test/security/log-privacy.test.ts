import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config';
import { createLogger } from '../../src/logging/logger';
import { startServer, type RunningServer } from '../../src/main';
import { httpsRequest } from '../support/https';
import { LOOKALIKE_PII } from '../../../common/privacy/lookalike-pii.fixture';
import { laneEnv } from '../support/lane';

// Public PII vectors (validator.js and id-validator, MIT): /work/shared/data/pii-test-vectors/SOURCE.md
const VECTORS = fileURLToPath(new URL('../../../../shared/data/pii-test-vectors/pii_vectors.json', import.meta.url));
const data = JSON.parse(readFileSync(VECTORS, 'utf8')) as Record<string, { value: string; expected_valid: boolean | null }[]>;
const valid = (list: string) => data[list]!.filter((v) => v.expected_valid === true).map((v) => v.value);

const KEY = { 'x-huiliu-key': 'demo-app-key' };
const PATH = '/api/v1/channels/app/messages';

describe('logs of channel routes (E17)', () => {
  let server: RunningServer;
  let dataDir: string;
  const lines: string[] = [];
  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'huiliu-logs-'));
    const config = loadConfig({
      env: laneEnv({ HUILIU_DATA_DIR: dataDir, HUILIU_PORT: '0' }, dataDir),
      argv: ['--demo'],
      cwd: process.cwd(),
    });
    // Debug: the per-request lines are written at debug since issue 8, and they are what is checked here.
    const logger = createLogger({ level: 'debug', destination: { write: (l: string) => void lines.push(l) } });
    server = await startServer(config, logger);
  });
  afterAll(async () => {
    await server.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const forms = (value: string) => {
    const encoded = encodeURIComponent(value);
    return [value, encoded, encodeURIComponent(encoded), encoded.replace(/%20/g, '+')];
  };

  it('never writes an external id from the query, raw or percent-encoded, for real HTTPS requests', async () => {
    const vectors = [...valid('cn_mobile'), ...valid('cn_resident_id'), ...valid('payment_card_isCreditCard'), 'li.lei@example.com'];
    const before = lines.length;
    for (const value of vectors) {
      const answer = await httpsRequest(`${server.url}${PATH}?externalId=${encodeURIComponent(value)}`, {
        ca: server.tls.caPem,
        headers: KEY,
      });
      expect(answer.status).toBe(200);
    }
    // The reported request of the issue, exactly as written there.
    await httpsRequest(`${server.url}${PATH}?externalId=%2B8613800138000`, { ca: server.tls.caPem, headers: KEY });
    const written = lines.slice(before).join('\n');
    expect(written).toContain('incoming request');
    expect(written).toContain(`${PATH}?[query]`);
    for (const value of [...vectors, '+8613800138000']) {
      for (const form of forms(value)) expect(written, form).not.toContain(form);
    }
    expect(written).not.toContain('13800138000');
  });

  it('never writes the external id, name or phone of a posted message, even when a request fails', async () => {
    const before = lines.length;
    const phone = '+8613800138000';
    await server.app.inject({
      method: 'POST',
      url: `${PATH}?externalId=${encodeURIComponent(phone)}`,
      headers: KEY,
      payload: { customer: { externalId: phone, name: 'Li', phone }, text: 'hello', clientMessageId: 'log-1' },
    });
    await server.app.inject({ method: 'GET', url: `${PATH}?externalId=${encodeURIComponent(phone)}&bogus=1`, headers: KEY });
    const written = lines.slice(before).join('\n');
    expect(written.length).toBeGreaterThan(0);
    for (const form of forms(phone)) expect(written, form).not.toContain(form);
    expect(written).not.toContain('13800138000');
  });

  it('never writes a phone, card or e-mail written with look-alike characters or separators (review finding)', () => {
    const log = createLogger({ level: 'info', destination: { write: (l: string) => void lines.push(l) } });
    const before = lines.length;
    const values = LOOKALIKE_PII;
    for (const value of values) log.info({ component: 'gateway.app', note: `customer wrote ${value}` }, 'lookup');
    const written = lines.slice(before);
    expect(written).toHaveLength(values.length);
    for (const [i, value] of values.entries()) {
      expect(written[i], value).not.toContain(value);
      expect(written[i], value).not.toContain('zhang');
      // Whatever digit script or separator was used, no more than the last 4 digits are left.
      const digits = [...written[i]!.split('"note":')[1]!].filter((c) => /\p{Nd}/u.test(c));
      expect(digits.length, value).toBeLessThanOrEqual(4);
    }
  });

  it('writes "[personal]" instead of any externalId field a component logs', () => {
    const log = createLogger({ level: 'info', destination: { write: (l: string) => void lines.push(l) } });
    const before = lines.length;
    log.info({ externalId: 'app-user-42', identity: { externalId: 'wx-openid-abc' }, query: { externalId: 'x' } }, 'lookup');
    const line = lines[before]!;
    expect(line).not.toContain('app-user-42');
    expect(line).not.toContain('wx-openid-abc');
    expect(line).toContain('[personal]');
  });
});
