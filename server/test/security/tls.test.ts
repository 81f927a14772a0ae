import { connect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/harness';

/** DESIGN §8 / ASVS V12.1 (issue 17): the HTTPS listener speaks TLS 1.3 and nothing older. */
describe('TLS on the HTTPS listener', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer();
  }, 60_000);
  afterAll(async () => {
    await s.cleanup();
  });

  const handshake = (maxVersion: 'TLSv1.2' | 'TLSv1.3') =>
    new Promise<string>((resolve, reject) => {
      const url = new URL(s.url);
      const socket = connect(
        { host: url.hostname, port: Number(url.port), maxVersion, rejectUnauthorized: false, servername: 'localhost' },
        () => {
          const protocol = socket.getProtocol() ?? '';
          socket.end();
          resolve(protocol);
        },
      );
      socket.on('error', reject);
    });

  it('completes a TLS 1.3 handshake', async () => {
    expect(new URL(s.url).protocol).toBe('https:');
    expect(await handshake('TLSv1.3')).toBe('TLSv1.3');
  });

  it('refuses a client that offers at most TLS 1.2', async () => {
    await expect(handshake('TLSv1.2')).rejects.toThrow(/protocol|version|alert/i);
  });
});
