import type {
  AppAccountResponse,
  AppAccountsResponse,
  CreateAppAccountRequest,
  DeadLetterViewDto,
  IssueAppKeyResponse,
  RevokeAppKeyResponse,
  RotateWebhookSecretResponse,
  UpdateAppAccountRequest,
} from '../../../../common/api/app-channel';
import { bearerCaller, type Fetch } from './http';

/** The app accounts admin REST client (issue 13, admins; docs/channels/app.md §4). Errors are HuiliuError with the server's code. */
export interface AppAdminApi {
  list(token: string): Promise<AppAccountsResponse>;
  create(token: string, body: CreateAppAccountRequest): Promise<AppAccountResponse>;
  update(token: string, appId: string, body: UpdateAppAccountRequest): Promise<AppAccountResponse>;
  /** The new key, shown once. */
  issueKey(token: string, appId: string, label?: string): Promise<IssueAppKeyResponse>;
  revokeKey(token: string, appId: string, keyId: string): Promise<RevokeAppKeyResponse>;
  /** The new webhook secret, shown once. */
  rotateSecret(token: string, appId: string): Promise<RotateWebhookSecretResponse>;
  deadLetters(token: string): Promise<{ deadLetters: DeadLetterViewDto[] }>;
  redeliver(token: string, id: string): Promise<{ delivery: DeadLetterViewDto }>;
}

export function createAppAdminApi(options: { base?: string; fetch?: Fetch } = {}): AppAdminApi {
  const call = bearerCaller(options);
  const app = (appId: string) => `/api/v1/channels/app/accounts/${encodeURIComponent(appId)}`;
  return {
    list: (token) => call(token, 'GET', '/api/v1/channels/app/accounts'),
    create: (token, body) => call(token, 'POST', '/api/v1/channels/app/accounts', body),
    update: (token, appId, body) => call(token, 'PATCH', app(appId), body),
    issueKey: (token, appId, label) => call(token, 'POST', `${app(appId)}/keys`, label ? { label } : {}),
    revokeKey: (token, appId, keyId) => call(token, 'POST', `${app(appId)}/keys/${encodeURIComponent(keyId)}/revoke`),
    rotateSecret: (token, appId) => call(token, 'POST', `${app(appId)}/webhook-secret`),
    deadLetters: (token) => call(token, 'GET', '/api/v1/channels/app/webhooks/dead-letters'),
    redeliver: (token, id) => call(token, 'POST', `/api/v1/channels/app/webhooks/dead-letters/${encodeURIComponent(id)}/redeliver`),
  };
}
