import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import {
  AppIdSchema,
  CreateAppAccountRequestSchema,
  IssueAppKeyRequestSchema,
  UpdateAppAccountRequestSchema,
  type AppAccountResponse,
  type AppAccountView,
  type AppAccountsResponse,
  type IssueAppKeyResponse,
  type RevokeAppKeyResponse,
  type RotateWebhookSecretResponse,
} from '../../../../common/api/app-channel';
import { HuiliuError } from '../../../../common/errors/codes';
import { parseWith } from '../../http/errors';
import type { Logger } from '../../logging/logger';
import type { AccountSettings, ChannelAccount, ChannelStore } from '../channels';
import { newWebhookSecret, type AppKeyStore } from './app-keys.sqlite';
import { WEBHOOK_SECRET, WEBHOOK_URL_SETTING, webhookHost, webhookUrlProblem } from './webhook';
import type { AppWebhooks } from './webhooks';

const AppParamsSchema = z.strictObject({ appId: AppIdSchema });
const KeyParamsSchema = z.strictObject({ appId: AppIdSchema, keyId: z.string().min(1).max(64) });

/**
 * The app accounts admin routes (issue 13, policy `channel.manage`: admins; docs/channels/app.md §4):
 *
 * - `GET /api/v1/channels/app/accounts` → 200 `AppAccountsResponse` (every app, config and admin ones,
 *   with its keys as hints and its dead-letter count);
 * - `POST /api/v1/channels/app/accounts` `CreateAppAccountRequest` → 201 `AppAccountResponse` (with
 *   `webhookSecret` once when a webhook URL was given); APP_ACCOUNT_EXISTS, VALIDATION_FAILED
 *   (an unknown skill group, a webhook URL against the config's rules);
 * - `PATCH /api/v1/channels/app/accounts/:appId` `UpdateAppAccountRequest` → 200 `AppAccountResponse`;
 * - `POST …/:appId/keys` `IssueAppKeyRequest` (`{label?}`, optional) → 201 `IssueAppKeyResponse` (the key, this once);
 * - `POST …/:appId/keys/:keyId/revoke` → 200 `RevokeAppKeyResponse` (refused from the next request, every node);
 * - `POST …/:appId/webhook-secret` → 200 `RotateWebhookSecretResponse` (the new secret, this once;
 *   deliveries from then on are signed with it).
 *
 * Apps from HUILIU_CONFIG are listed (`source: config`) but changing them answers
 * APP_ACCOUNT_FROM_CONFIG: the config is applied again at every start and would undo the change.
 * Unknown app: APP_ACCOUNT_NOT_FOUND; unknown key: APP_KEY_NOT_FOUND. Every change is logged with the
 * admin's id, the app id and the key id — never a key or a secret.
 */
export async function appAdminPlugin(
  app: FastifyInstance,
  opts: {
    channels: ChannelStore;
    keys: AppKeyStore;
    /** Skill group ids of the config. */
    skillGroups: readonly string[];
    webhooks?: AppWebhooks;
    logger: Logger;
  },
): Promise<void> {
  const log = opts.logger.child({ component: 'gateway.app.admin' });
  const groups = new Set(opts.skillGroups);

  const checkGroup = (group: string | null | undefined) => {
    if (group != null && !groups.has(group))
      throw new HuiliuError('VALIDATION_FAILED', undefined, [{ path: 'skillGroup', message: 'no such skill group' }]);
  };
  const checkUrl = (url: string) => {
    const problem = webhookUrlProblem(url);
    if (problem) throw new HuiliuError('VALIDATION_FAILED', undefined, [{ path: 'webhookUrl', message: problem }]);
  };

  /** The rows of one app id; the admin row when an admin created it. */
  const rowsOf = async (appId: string) => {
    const rows = (await opts.channels.accounts('AP')).filter((a) => a.accountId === appId);
    const admin = rows.find((r) => opts.keys.isAdmin(r.id)) ?? null;
    return { rows, admin };
  };

  /** The admin row of an app, or the right refusal. */
  const adminRow = async (appId: string): Promise<ChannelAccount> => {
    const { rows, admin } = await rowsOf(appId);
    if (admin) return admin;
    if (rows.length > 0) throw new HuiliuError('APP_ACCOUNT_FROM_CONFIG');
    throw new HuiliuError('APP_ACCOUNT_NOT_FOUND');
  };

  const view = (appId: string, rows: ChannelAccount[], admin: ChannelAccount | null, dead: Map<string, number>): AppAccountView => {
    const main = admin ?? rows.at(-1)!;
    const url = main.settings[WEBHOOK_URL_SETTING];
    return {
      appId,
      name: main.name,
      skillGroup: main.skillGroup,
      webhookUrl: typeof url === 'string' ? url : null,
      source: admin ? 'admin' : 'config',
      keys: opts.keys.keysOf(appId),
      deadLetters: dead.get(appId) ?? 0,
      createdAt: rows[0]!.createdAt,
    };
  };
  const deadCounts = () => opts.webhooks?.deadLetterCounts() ?? new Map<string, number>();
  const viewOf = async (appId: string) => {
    const { rows, admin } = await rowsOf(appId);
    return view(appId, rows, admin, deadCounts());
  };

  /** Writes the admin row again with changed fields; its secrets are kept unless `secrets` replaces them. */
  const rewrite = async (
    row: ChannelAccount,
    change: { name?: string; skillGroup?: string | null; settings?: AccountSettings; secrets?: Record<string, string> },
  ) => {
    const secrets = change.secrets ?? (await opts.channels.secrets(row.id)) ?? undefined;
    await opts.channels.addAccount({
      channel: 'AP',
      accountId: row.accountId,
      name: change.name ?? row.name,
      skillGroup: change.skillGroup !== undefined ? change.skillGroup : row.skillGroup,
      settings: change.settings ?? row.settings,
      ...(secrets ? { secrets } : {}),
    });
    opts.keys.bump();
  };

  app.get('/api/v1/channels/app/accounts', { config: { policy: 'channel.manage' } }, async (): Promise<AppAccountsResponse> => {
    const byApp = new Map<string, ChannelAccount[]>();
    for (const a of await opts.channels.accounts('AP')) byApp.set(a.accountId, [...(byApp.get(a.accountId) ?? []), a]);
    const dead = deadCounts();
    const apps = [...byApp].map(([appId, rows]) => view(appId, rows, rows.find((r) => opts.keys.isAdmin(r.id)) ?? null, dead));
    return { apps: apps.sort((a, b) => a.appId.localeCompare(b.appId)) };
  });

  app.post('/api/v1/channels/app/accounts', { config: { policy: 'channel.manage' } }, async (request, reply) => {
    const body = parseWith(CreateAppAccountRequestSchema, request.body);
    checkGroup(body.skillGroup);
    if (body.webhookUrl !== undefined) checkUrl(body.webhookUrl);
    if ((await rowsOf(body.accountId)).rows.length > 0) throw new HuiliuError('APP_ACCOUNT_EXISTS');
    const webhookSecret = body.webhookUrl !== undefined ? newWebhookSecret() : undefined;
    const row = await opts.channels.addAccount({
      channel: 'AP',
      accountId: body.accountId,
      name: body.name,
      skillGroup: body.skillGroup ?? null,
      settings: body.webhookUrl !== undefined ? { [WEBHOOK_URL_SETTING]: body.webhookUrl } : {},
      ...(webhookSecret ? { secrets: { [WEBHOOK_SECRET]: webhookSecret } } : {}),
    });
    opts.keys.markAdmin(row.id);
    log.info(
      {
        by: request.staff?.id,
        appId: body.accountId,
        webhookHost: body.webhookUrl !== undefined ? webhookHost(body.webhookUrl) : null,
      },
      'app account created',
    );
    const answer: AppAccountResponse = { app: await viewOf(body.accountId), ...(webhookSecret ? { webhookSecret } : {}) };
    return reply.status(201).send(answer);
  });

  app.patch(
    '/api/v1/channels/app/accounts/:appId',
    { config: { policy: 'channel.manage' } },
    async (request): Promise<AppAccountResponse> => {
      const { appId } = parseWith(AppParamsSchema, request.params);
      const body = parseWith(UpdateAppAccountRequestSchema, request.body);
      checkGroup(body.skillGroup);
      if (typeof body.webhookUrl === 'string') checkUrl(body.webhookUrl);
      const row = await adminRow(appId);
      const settings: AccountSettings = { ...row.settings };
      if (body.webhookUrl === null) delete settings[WEBHOOK_URL_SETTING];
      else if (body.webhookUrl !== undefined) settings[WEBHOOK_URL_SETTING] = body.webhookUrl;
      const secrets = (await opts.channels.secrets(row.id)) ?? {};
      // A webhook named for the first time gets its signing secret now, shown once.
      const webhookSecret = typeof body.webhookUrl === 'string' && !secrets[WEBHOOK_SECRET] ? newWebhookSecret() : undefined;
      await rewrite(row, {
        ...(body.name !== undefined ? { name: body.name } : {}),
        ...(body.skillGroup !== undefined ? { skillGroup: body.skillGroup } : {}),
        settings,
        ...(webhookSecret ? { secrets: { ...secrets, [WEBHOOK_SECRET]: webhookSecret } } : {}),
      });
      log.info({ by: request.staff?.id, appId, changed: Object.keys(body) }, 'app account changed');
      return { app: await viewOf(appId), ...(webhookSecret ? { webhookSecret } : {}) };
    },
  );

  app.post('/api/v1/channels/app/accounts/:appId/keys', { config: { policy: 'channel.manage' } }, async (request, reply) => {
    const { appId } = parseWith(AppParamsSchema, request.params);
    const { label } = parseWith(IssueAppKeyRequestSchema, request.body ?? {});
    const row = await adminRow(appId);
    const { key, view: issued } = opts.keys.issueKey(appId, row.id, label);
    log.info({ by: request.staff?.id, appId, keyId: issued.id }, 'app key issued');
    const answer: IssueAppKeyResponse = { key, view: issued };
    return reply.status(201).send(answer);
  });

  app.post(
    '/api/v1/channels/app/accounts/:appId/keys/:keyId/revoke',
    { config: { policy: 'channel.manage' } },
    async (request): Promise<RevokeAppKeyResponse> => {
      const { appId, keyId } = parseWith(KeyParamsSchema, request.params);
      const known = opts.keys.keysOf(appId).find((k) => k.id === keyId);
      if (known?.source === 'config') throw new HuiliuError('APP_ACCOUNT_FROM_CONFIG');
      await adminRow(appId);
      const revoked = known ? opts.keys.revokeKey(appId, keyId) : null;
      if (!revoked) throw new HuiliuError('APP_KEY_NOT_FOUND');
      log.info({ by: request.staff?.id, appId, keyId }, 'app key revoked');
      return { view: revoked };
    },
  );

  app.post(
    '/api/v1/channels/app/accounts/:appId/webhook-secret',
    { config: { policy: 'channel.manage' } },
    async (request): Promise<RotateWebhookSecretResponse> => {
      const { appId } = parseWith(AppParamsSchema, request.params);
      const row = await adminRow(appId);
      const webhookSecret = newWebhookSecret();
      const secrets = (await opts.channels.secrets(row.id)) ?? {};
      await rewrite(row, { secrets: { ...secrets, [WEBHOOK_SECRET]: webhookSecret } });
      log.info({ by: request.staff?.id, appId }, 'app webhook secret rotated');
      return { webhookSecret };
    },
  );
}
