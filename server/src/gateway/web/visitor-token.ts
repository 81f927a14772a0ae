import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Visitor tokens are issued by the server: 18 random bytes plus an HMAC-SHA256 tag under a server
 * secret. A token the server did not issue (a guess, a weak client-made one) is refused and replaced,
 * so nobody can pick a token that reads another visitor's conversation.
 */
export class VisitorTokens {
  constructor(private readonly secret: Buffer) {
    if (secret.length < 32) throw new RangeError('visitor token secret must be at least 32 bytes');
  }

  private tag(id: string): string {
    return createHmac('sha256', this.secret).update(`visitor:${id}`).digest('base64url').slice(0, 22);
  }

  issue(): string {
    const id = randomBytes(18).toString('base64url');
    return `${id}.${this.tag(id)}`;
  }

  /**
   * An HMAC-SHA256 tag (base64url, 43 characters) of `data` for one `purpose` under the same secret,
   * domain-separated from the tokens' own tags (issue 13: the widget's signed attachment links).
   */
  mac(purpose: string, data: string): string {
    return createHmac('sha256', this.secret).update(`${purpose}\u0000${data}`).digest('base64url');
  }

  /** Whether `tag` is `mac(purpose, data)`, compared in constant time. */
  checkMac(purpose: string, data: string, tag: string): boolean {
    const expected = Buffer.from(this.mac(purpose, data));
    const given = Buffer.from(tag);
    return expected.length === given.length && timingSafeEqual(expected, given);
  }

  verify(token: string): boolean {
    const m = /^([A-Za-z0-9_-]{24})\.([A-Za-z0-9_-]{22})$/.exec(token);
    if (!m) return false;
    const expected = Buffer.from(this.tag(m[1]!));
    const given = Buffer.from(m[2]!);
    return expected.length === given.length && timingSafeEqual(expected, given);
  }
}
