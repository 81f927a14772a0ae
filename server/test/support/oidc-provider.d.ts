/**
 * The part of `oidc-provider` v9 (a dev dependency without bundled types) the OIDC tests use: a real
 * OpenID provider on loopback (server/test/security/oidc.test.ts).
 */
declare module 'oidc-provider' {
  import type { IncomingMessage, ServerResponse } from 'node:http';

  interface ClientMetadata {
    client_id: string;
    client_secret?: string;
    redirect_uris: string[];
    token_endpoint_auth_method?: string;
  }
  interface Account {
    accountId: string;
    claims: () => { sub: string } | Promise<{ sub: string }>;
  }
  interface Configuration {
    clients?: ClientMetadata[];
    claims?: Record<string, string[]>;
    scopes?: string[];
    findAccount?: (ctx: unknown, id: string) => Account | undefined | Promise<Account | undefined>;
    cookies?: { keys: string[] };
    features?: Record<string, { enabled: boolean }>;
  }
  export default class Provider {
    constructor(issuer: string, configuration?: Configuration);
    callback(): (req: IncomingMessage, res: ServerResponse) => void;
  }
}
