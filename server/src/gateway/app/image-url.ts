import { lookup } from 'node:dns/promises';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import ipaddr from 'ipaddr.js';
import { HuiliuError } from '../../../../common/errors/codes';
import { checkImage, readImageHeader, type CheckedImage, type ImageLimits } from '../../attachments/image';

/**
 * Images an app sends by URL (issue 13, docs/channels/app.md §5): the server fetches them itself,
 * guarded against server-side request forgery (OWASP SSRF Prevention Cheat Sheet): `https:` only; the
 * host resolved here and every address checked (only public unicast — no private, loopback,
 * link-local, multicast, carrier-grade NAT, reserved, unspecified or IPv6 unique-local address, IPv4-mapped
 * IPv6 addresses judged as their IPv4 address); the connection pinned to the checked address (no
 * second resolution an attacker could answer differently); every redirect (at most 3) checked the
 * same way; connect and total timeouts; reading stopped past the size limit; the bytes typed by their
 * magic bytes, as uploads are.
 */

export interface ImageFetchOptions {
  limits: ImageLimits;
  /** Whole budget of one fetch, redirects included. Milliseconds. */
  timeoutMs: number;
  /** Budget to connect (TCP and TLS) to one address. Milliseconds; default min(5000, timeoutMs). */
  connectTimeoutMs?: number;
  /** Tests only (`channels.app.imageUrls.allowLoopbackHttp`): loopback addresses are allowed, over http too. */
  allowLoopbackHttp?: boolean;
  /** Replaces the DNS lookup (tests). */
  resolve?: (host: string) => Promise<string[]>;
}

/** Why a fetch failed, a metric label (`huiliu_channel_media_failed_total{reason}`). */
export type ImageFetchFailure = 'timeout' | 'http_status' | 'too_large' | 'not_image' | 'network';

export const MAX_IMAGE_REDIRECTS = 3;

const refused = (message: string) => new HuiliuError('IMAGE_URL_REFUSED', undefined, [{ path: 'image.url', message }]);
const failed = (reason: ImageFetchFailure, message: string) =>
  new HuiliuError('IMAGE_FETCH_FAILED', `The image could not be fetched: ${message}.`, { reason });

/** The reason of an IMAGE_FETCH_FAILED error (`network` for any other error). */
export const fetchFailureReason = (error: HuiliuError): ImageFetchFailure =>
  (error.details as { reason?: ImageFetchFailure } | undefined)?.reason ?? 'network';

/**
 * Whether `address` (an IP literal) may be fetched from: public unicast only; loopback too when
 * `allowLoopback`. IPv4-mapped IPv6 (`::ffff:10.0.0.1`) is judged as its IPv4 address.
 * @returns null when allowed, else the address's range name (`private`, `loopback`, `linkLocal` …)
 */
export function addressProblem(address: string, allowLoopback = false): string | null {
  let ip: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    ip = ipaddr.parse(address);
  } catch {
    return 'invalid';
  }
  if (ip.kind() === 'ipv6' && (ip as ipaddr.IPv6).isIPv4MappedAddress()) ip = (ip as ipaddr.IPv6).toIPv4Address();
  // IPv4-compatible IPv6 (`::a.b.c.d`, RFC 4291 §2.5.5.1, deprecated): ipaddr.js calls it unicast, but a
  // host that routes ::/96 reaches the IPv4 address inside (127.0.0.1, 169.254.169.254…). Never public.
  const range = ip.range();
  if (range === 'unicast' && ip.kind() === 'ipv6' && (ip as ipaddr.IPv6).parts.slice(0, 6).every((p) => p === 0)) return 'ipv4Compatible';
  if (range === 'unicast') return null;
  if (range === 'loopback' && allowLoopback) return null;
  return range;
}

/** The URL as parsed, refused unless https (or http to loopback with the test flag), without credentials. */
function checkUrl(raw: string, allowLoopbackHttp: boolean): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw refused('is not a valid URL');
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && allowLoopbackHttp)) throw refused('must be https://');
  if (url.username || url.password) throw refused('must not carry a user or password');
  return url;
}

/** Resolves the URL's host and checks every address; the first one is connected to. */
async function checkedAddress(url: URL, options: ImageFetchOptions): Promise<string> {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const allowLoopback = options.allowLoopbackHttp === true;
  let addresses: string[];
  if (ipaddr.isValid(host)) addresses = [host];
  else {
    try {
      addresses = options.resolve ? await options.resolve(host) : (await lookup(host, { all: true, verbatim: true })).map((a) => a.address);
    } catch {
      throw failed('network', 'its host does not resolve');
    }
  }
  if (addresses.length === 0) throw failed('network', 'its host does not resolve');
  // All of them: a host answering one public and one private address is refused.
  for (const a of addresses) {
    const problem = addressProblem(a, allowLoopback);
    if (problem) throw refused(`resolves to a ${problem} address, which is not allowed`);
  }
  // Plain http only to loopback, and only with the test flag.
  if (url.protocol === 'http:' && addresses.some((a) => addressProblem(a, false) === null)) throw refused('must be https://');
  return addresses[0]!;
}

/** One GET to the pinned address; resolves the response or rejects (timeouts as TimeoutError). */
function get(url: URL, address: string, options: ImageFetchOptions, signal: AbortSignal): Promise<IncomingMessage> {
  const connectMs = options.connectTimeoutMs ?? Math.min(5000, options.timeoutMs);
  return new Promise((resolve, reject) => {
    const request = (url.protocol === 'https:' ? httpsRequest : httpRequest)({
      host: address,
      port: url.port || (url.protocol === 'https:' ? 443 : 80),
      path: `${url.pathname}${url.search}`,
      method: 'GET',
      // The certificate is checked against the URL's host name, not the address connected to.
      servername: ipaddr.isValid(url.hostname.replace(/^\[|\]$/g, '')) ? undefined : url.hostname,
      headers: { host: url.host, accept: 'image/*', 'user-agent': 'Huiliu-ImageFetch/1' },
      signal,
      agent: false,
    });
    const connectTimer = setTimeout(
      () => request.destroy(Object.assign(new Error('connect timeout'), { name: 'TimeoutError' })),
      connectMs,
    );
    request.on('socket', (socket) => {
      socket.once(url.protocol === 'https:' ? 'secureConnect' : 'connect', () => clearTimeout(connectTimer));
    });
    request.on('response', (res) => {
      clearTimeout(connectTimer);
      resolve(res);
    });
    request.on('error', (error) => {
      clearTimeout(connectTimer);
      reject(error);
    });
    request.end();
  });
}

/** Reads the body up to `maxBytes`; more is a failure (the connection is dropped at once). */
async function readBody(res: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const declared = Number(res.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) {
    res.destroy();
    throw failed('too_large', `it is larger than ${maxBytes} bytes`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) {
      res.destroy();
      throw failed('too_large', `it is larger than ${maxBytes} bytes`);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/**
 * Fetches and checks the image at `rawUrl`.
 * @returns the checked image (type from its magic bytes; the response's Content-Type is not trusted)
 * @throws HuiliuError IMAGE_URL_REFUSED (400: the URL, an address it resolves to, or a redirect's, is
 *   not allowed; more than 3 redirects) — IMAGE_FETCH_FAILED (details.reason: `timeout`, `http_status`
 *   (not 2xx), `too_large` (over `limits.maxBytes` or `maxPixels`), `not_image` (no accepted image by
 *   its magic bytes), `network` (DNS, connection, TLS))
 */
export async function fetchImage(rawUrl: string, options: ImageFetchOptions): Promise<CheckedImage & { host: string }> {
  const allowLoopbackHttp = options.allowLoopbackHttp === true;
  let url = checkUrl(rawUrl, allowLoopbackHttp);
  const signal = AbortSignal.timeout(options.timeoutMs);
  for (let hop = 0; ; hop++) {
    const address = await checkedAddress(url, options);
    let res: IncomingMessage;
    try {
      res = await get(url, address, options, signal);
    } catch (error) {
      const e = error as Error;
      if (e.name === 'TimeoutError' || signal.aborted) throw failed('timeout', 'it took too long');
      throw failed('network', 'the connection failed');
    }
    const status = res.statusCode ?? 0;
    if (status >= 300 && status < 400 && status !== 304) {
      res.resume();
      const location = res.headers.location;
      if (!location) throw failed('http_status', `HTTP ${status} without a Location`);
      if (hop >= MAX_IMAGE_REDIRECTS) throw refused(`more than ${MAX_IMAGE_REDIRECTS} redirects`);
      try {
        url = checkUrl(new URL(location, url).href, allowLoopbackHttp);
      } catch (error) {
        throw error instanceof HuiliuError ? refused(`redirects to a URL that is not allowed`) : error;
      }
      continue;
    }
    if (status < 200 || status >= 300) {
      res.resume();
      throw failed('http_status', `HTTP ${status}`);
    }
    let bytes: Buffer;
    try {
      bytes = await readBody(res, options.limits.maxBytes);
    } catch (error) {
      if (error instanceof HuiliuError) throw error;
      if ((error as Error).name === 'TimeoutError' || (error as Error).name === 'AbortError' || signal.aborted)
        throw failed('timeout', 'it took too long');
      throw failed('network', 'the connection failed');
    }
    const header = readImageHeader(bytes);
    if (!header) throw failed('not_image', 'it is not a PNG, JPEG, WebP or GIF image');
    try {
      return { ...checkImage({ base64: bytes.toString('base64'), mime: header.mime }, options.limits), host: url.host };
    } catch (error) {
      const code = error instanceof HuiliuError ? error.code : 'INTERNAL';
      throw code === 'PAYLOAD_TOO_LARGE' ? failed('too_large', 'the image is too large') : failed('not_image', 'it is not a usable image');
    }
  }
}
