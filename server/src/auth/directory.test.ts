import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StaffDirectorySchema } from '../../../common/api/auth';
import { ErrorBodySchema } from '../../../common/errors/codes';
import { startTestServer, type TestServer } from '../../test/support/harness';

/** The staff directory (issue 11): names for the ids in routing explanations and config versions. */
describe('GET /api/v1/auth/users', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer();
  });
  afterAll(async () => {
    await s.cleanup();
  });

  const get = async (username: string) =>
    s.app.inject({ method: 'GET', url: '/api/v1/auth/users', headers: { authorization: `Bearer ${await s.login(username)}` } });

  it('lists every enabled user to an admin, with ids, names, roles and skill groups but no secrets', async () => {
    const res = await get('admin');
    expect(res.statusCode).toBe(200);
    const { users } = StaffDirectorySchema.parse(res.json());
    expect(users.map((u) => u.username)).toEqual(['admin', 'agent1', 'agent2', 'auditor', 'lead', 'privacy']);
    expect(users.find((u) => u.username === 'agent2')).toMatchObject({ displayName: 'Agent Two', skillGroups: ['vip'], expert: true });
    expect(res.body).not.toMatch(/argon2|password/i);
  });

  it('shows a lead the users of their skill groups and themself', async () => {
    const { users } = StaffDirectorySchema.parse((await get('lead')).json());
    expect(users.map((u) => u.username)).toEqual(['admin', 'agent1', 'agent2', 'lead']);
  });

  it('refuses agents (colleagues are team.view)', async () => {
    const res = await get('agent1');
    expect(res.statusCode).toBe(403);
    expect(ErrorBodySchema.parse(res.json()).error.code).toBe('FORBIDDEN');
  });
});
