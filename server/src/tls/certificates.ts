// @peculiar/x509 uses tsyringe, which needs the Reflect metadata polyfill loaded first.
import 'reflect-metadata';
import { X509Certificate as NodeX509, webcrypto, createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync, chmodSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { isIP } from 'node:net';
import * as x509 from '@peculiar/x509';

export interface TlsMaterial {
  caPem: string;
  certPem: string;
  keyPem: string;
  /** SHA-256 of the CA certificate (DER), hex upper-case with colons, for pinning. */
  caFingerprint256: string;
  /** base64 SHA-256 of the server certificate's SubjectPublicKeyInfo (Chromium's SPKI pin form). */
  spkiSha256: string;
}

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;
const crypto = webcrypto;
const ALG: webcrypto.EcKeyGenParams & webcrypto.EcdsaParams = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
const DAY = 86_400_000;
// Browsers reject server certificates valid for more than 398 days.
const LEAF_DAYS = 397;
const CA_DAYS = 3650;
const RENEW_BEFORE_DAYS = 30;

async function exportPkcs8Pem(key: CryptoKey): Promise<string> {
  const der = await crypto.subtle.exportKey('pkcs8', key);
  return x509.PemConverter.encode(der, 'PRIVATE KEY');
}

async function importPkcs8Pem(pem: string): Promise<CryptoKey> {
  const der = x509.PemConverter.decode(pem)[0]!;
  return crypto.subtle.importKey('pkcs8', der, ALG, true, ['sign']);
}

/** base64 SHA-256 of a certificate's SubjectPublicKeyInfo: Chromium's `--ignore-certificate-errors-spki-list` form. */
export function spkiPin(certPem: string): string {
  return createHash('sha256')
    .update(new NodeX509(certPem).publicKey.export({ type: 'spki', format: 'der' }))
    .digest('base64');
}

const pemFile = (pem: string) => (pem.endsWith('\n') ? pem : `${pem}\n`);

/**
 * Seals and opens the private keys' files (issue 14): with a PKCS#11 KEK no private key is in a plain
 * file; `<name>.sealed` holds it AES-256-GCM sealed with a data key the provider wraps.
 */
export interface SecretBox {
  seal(plain: Buffer, aad: string): Buffer;
  open(sealed: Buffer, aad: string): Buffer;
}

/** Where a private key is kept, plain (embedded default) or sealed by a SecretBox. */
class KeyFiles {
  constructor(private readonly box: SecretBox | undefined) {}
  private sealedPath = (path: string) => `${path}.sealed`;
  exists(path: string): boolean {
    if (!this.box) return existsSync(path);
    // A key kept plain before the KEK moved to the HSM is sealed now and its plain file removed.
    if (!existsSync(this.sealedPath(path)) && existsSync(path)) {
      this.write(path, readFileSync(path, 'utf8'));
      rmSync(path);
    }
    return existsSync(this.sealedPath(path));
  }
  read(path: string): string {
    if (!this.box) return readFileSync(path, 'utf8');
    return this.box.open(readFileSync(this.sealedPath(path)), `tls:${path.split(/[\\/]/).at(-1)}`).toString('utf8');
  }
  write(path: string, pem: string): void {
    const target = this.box ? this.sealedPath(path) : path;
    const content = this.box ? this.box.seal(Buffer.from(pemFile(pem)), `tls:${path.split(/[\\/]/).at(-1)}`) : pemFile(pem);
    writeFileSync(target, content, { mode: 0o600 });
    chmodSync(target, 0o600);
  }
}

function leafCovers(certPem: string, hosts: readonly string[]): boolean {
  const cert = new NodeX509(certPem);
  const validTo = Date.parse(cert.validTo);
  if (validTo - Date.now() < RENEW_BEFORE_DAYS * DAY) return false;
  return hosts.every((h) => cert.checkHost(h) !== undefined || cert.checkIP(h) !== undefined);
}

/**
 * Ensures a local CA (`ca.pem`) and a server certificate signed by it exist under `dir`, generating
 * them on first start (ECDSA P-256). The server certificate is renewed when it nears expiry or does
 * not cover `hosts`; the CA stays, so pinned clients keep working. With `box` (a PKCS#11 KEK, issue
 * 14) the two private keys are kept sealed (`ca-key.pem.sealed`, `server-key.pem.sealed`); plain ones
 * left from an earlier start are sealed and removed.
 * @throws TamperError when a sealed key file was altered
 */
export async function ensureTlsMaterial(dir: string, hosts: readonly string[], box?: SecretBox): Promise<TlsMaterial> {
  const secrets = new KeyFiles(box);
  x509.cryptoProvider.set(crypto as never);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const caPath = join(dir, 'ca.pem');
  const caKeyPath = join(dir, 'ca-key.pem');
  const certPath = join(dir, 'server.pem');
  const keyPath = join(dir, 'server-key.pem');
  const allHosts = [...new Set(['localhost', '127.0.0.1', '::1', ...hosts])].filter((h) => h !== '0.0.0.0' && h !== '::');

  let caCert: x509.X509Certificate;
  let caKey: CryptoKey;
  if (existsSync(caPath) && secrets.exists(caKeyPath)) {
    caCert = new x509.X509Certificate(readFileSync(caPath, 'utf8'));
    caKey = await importPkcs8Pem(secrets.read(caKeyPath));
  } else {
    const keys = (await crypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as CryptoKeyPair;
    caCert = await x509.X509CertificateGenerator.createSelfSigned({
      name: 'CN=Huiliu Local CA, O=Huiliu',
      keys,
      signingAlgorithm: ALG,
      notBefore: new Date(Date.now() - DAY),
      notAfter: new Date(Date.now() + CA_DAYS * DAY),
      extensions: [
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      ],
    });
    caKey = keys.privateKey;
    secrets.write(caKeyPath, await exportPkcs8Pem(caKey));
    writeFileSync(caPath, pemFile(caCert.toString('pem')));
  }

  const haveLeaf = existsSync(certPath) && secrets.exists(keyPath);
  if (!haveLeaf || !leafCovers(readFileSync(certPath, 'utf8'), allHosts)) {
    const keys = (await crypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as CryptoKeyPair;
    const leaf = await x509.X509CertificateGenerator.create({
      subject: 'CN=Huiliu companion server',
      issuer: caCert.subject,
      publicKey: keys.publicKey,
      signingKey: caKey,
      signingAlgorithm: ALG,
      notBefore: new Date(Date.now() - DAY),
      notAfter: new Date(Date.now() + LEAF_DAYS * DAY),
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
        new x509.SubjectAlternativeNameExtension(allHosts.map((h) => ({ type: isIP(h) ? ('ip' as const) : ('dns' as const), value: h }))),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
        await x509.AuthorityKeyIdentifierExtension.create(caCert),
      ],
    });
    secrets.write(keyPath, await exportPkcs8Pem(keys.privateKey));
    writeFileSync(certPath, pemFile(leaf.toString('pem')));
  }

  const caPem = readFileSync(caPath, 'utf8');
  const certPem = readFileSync(certPath, 'utf8');
  return {
    caPem,
    certPem,
    keyPem: secrets.read(keyPath),
    caFingerprint256: new NodeX509(caPem).fingerprint256,
    spkiSha256: spkiPin(certPem),
  };
}
