import { describe, expect, it } from 'vitest';
import {
  ACCEPT,
  REJECT,
  USE_CHROMIUM,
  createCertificateVerifier,
  isAllowedNavigation,
  isExternalLink,
  secureWebPreferences,
} from './security';

const server = new URL('https://127.0.0.1:8443');
const CA = 'sha256/CA-PIN=';
const chain = (caFingerprint: string) => ({ fingerprint: 'sha256/LEAF=', issuerCert: { fingerprint: caFingerprint, issuerCert: null } });

describe('certificate pinning to the companion server', () => {
  const verify = createCertificateVerifier(server, CA);

  it('accepts the server when its chain carries the pinned CA', () => {
    expect(
      verify({ hostname: '127.0.0.1', certificate: chain(CA), verificationResult: 'net::ERR_CERT_AUTHORITY_INVALID', errorCode: -202 }),
    ).toBe(ACCEPT);
  });

  it('rejects the server host with any other CA, even one the system trusts', () => {
    expect(verify({ hostname: '127.0.0.1', certificate: chain('sha256/EVIL='), verificationResult: 'net::OK', errorCode: 0 })).toBe(REJECT);
  });

  it('rejects a pinned chain that is wrong for other reasons (expired, name mismatch)', () => {
    expect(
      verify({ hostname: '127.0.0.1', certificate: chain(CA), verificationResult: 'net::ERR_CERT_DATE_INVALID', errorCode: -201 }),
    ).toBe(REJECT);
    expect(
      verify({ hostname: '127.0.0.1', certificate: chain(CA), verificationResult: 'net::ERR_CERT_COMMON_NAME_INVALID', errorCode: -200 }),
    ).toBe(REJECT);
  });

  it("leaves other hosts to Chromium's own verification", () => {
    expect(verify({ hostname: 'example.com', certificate: chain('x'), verificationResult: 'net::OK', errorCode: 0 })).toBe(USE_CHROMIUM);
  });

  it('without a local CA, trusts only what the system trusts', () => {
    const v = createCertificateVerifier(new URL('https://cs.example.com'), null);
    expect(v({ hostname: 'cs.example.com', certificate: chain('x'), verificationResult: 'net::OK', errorCode: 0 })).toBe(ACCEPT);
    expect(
      v({ hostname: 'cs.example.com', certificate: chain('x'), verificationResult: 'net::ERR_CERT_AUTHORITY_INVALID', errorCode: -202 }),
    ).toBe(REJECT);
  });
});

describe('navigation lock', () => {
  it('allows only the server origin under /app/', () => {
    expect(isAllowedNavigation('https://127.0.0.1:8443/app/#/queue', server)).toBe(true);
    expect(isAllowedNavigation('https://127.0.0.1:8443/widget', server)).toBe(false);
    expect(isAllowedNavigation('https://127.0.0.1:9443/app/', server)).toBe(false);
    expect(isAllowedNavigation('http://127.0.0.1:8443/app/', server)).toBe(false);
    expect(isAllowedNavigation('file:///etc/passwd', server)).toBe(false);
    expect(isAllowedNavigation('not a url', server)).toBe(false);
  });

  it('sends only http(s) links to the system browser', () => {
    expect(isExternalLink('https://example.com/help')).toBe(true);
    expect(isExternalLink('javascript:alert(1)')).toBe(false);
    expect(isExternalLink('file:///C:/Windows')).toBe(false);
    expect(isExternalLink('smb://host/share')).toBe(false);
  });

  it('gives windows isolation, sandbox and no Node', () => {
    expect(secureWebPreferences('/p.cjs')).toMatchObject({
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webviewTag: false,
    });
  });
});
