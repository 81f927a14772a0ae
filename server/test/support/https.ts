import { request } from 'node:https';

export interface HttpsAnswer {
  status: number;
  body: string;
}

/** One HTTPS request trusting only `ca` (the test server's own local CA); a JSON body is sent as such. */
export function httpsRequest(
  url: string,
  options: { ca: string; method?: string; headers?: Record<string, string>; json?: unknown },
): Promise<HttpsAnswer> {
  return new Promise((resolve, reject) => {
    const headers = { ...(options.json !== undefined ? { 'content-type': 'application/json' } : {}), ...options.headers };
    const req = request(url, { method: options.method ?? 'GET', ca: options.ca, headers }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end(options.json !== undefined ? JSON.stringify(options.json) : undefined);
  });
}
