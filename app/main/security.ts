/** The parts of Electron's certificate objects that pinning reads (injected in tests). */
export interface CertLike {
  fingerprint: string;
  issuerCert?: CertLike | null;
}

export interface VerifyRequest {
  hostname: string;
  certificate: CertLike;
  verificationResult: string;
  errorCode: number;
}

/** Electron's setCertificateVerifyProc answers. */
export const ACCEPT = 0;
export const REJECT = -2;
export const USE_CHROMIUM = -3;

// Chromium net error codes (net/base/net_error_list.h): 0 OK, -202 ERR_CERT_AUTHORITY_INVALID.
const NET_OK = 0;
const ERR_CERT_AUTHORITY_INVALID = -202;

/**
 * Certificate pinning to the companion server (DESIGN §8). For the server's host, the chain must
 * contain the pinned CA; a chain Chromium rejects only because it does not know that CA is accepted,
 * any other fault (expired, wrong name) is not. Other hosts: Chromium's own verification.
 */
export function createCertificateVerifier(server: URL, pinnedCa: string | null): (req: VerifyRequest) => number {
  return (req) => {
    if (req.hostname !== server.hostname) return USE_CHROMIUM;
    const valid = req.errorCode === NET_OK;
    if (!pinnedCa) return valid ? ACCEPT : REJECT;
    let pinned = false;
    for (let c: CertLike | null | undefined = req.certificate, depth = 0; c && depth < 8; c = c.issuerCert, depth++) {
      if (c.fingerprint === pinnedCa) pinned = true;
    }
    if (!pinned) return REJECT;
    return valid || req.errorCode === ERR_CERT_AUTHORITY_INVALID ? ACCEPT : REJECT;
  };
}

/** Only the companion server's own pages may load in the workstation window. */
export function isAllowedNavigation(target: string, server: URL): boolean {
  try {
    const url = new URL(target);
    return url.origin === server.origin && url.pathname.startsWith('/app/');
  } catch {
    return false;
  }
}

/** Links that leave the workstation open in the system browser, and only http(s) ones. */
export function isExternalLink(target: string): boolean {
  try {
    const { protocol } = new URL(target);
    return protocol === 'https:' || protocol === 'http:';
  } catch {
    return false;
  }
}

/** The webPreferences every workstation window gets (DESIGN §8: isolation, sandbox, no Node). */
export function secureWebPreferences(preloadPath: string) {
  return {
    preload: preloadPath,
    contextIsolation: true,
    sandbox: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    nodeIntegrationInSubFrames: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    webviewTag: false,
    spellcheck: true,
  } as const;
}
