import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Role, UserView } from '../../../common/api/auth';
import type { SessionStatus } from '../../../common/api/sessions';
import { canSeeInQueue, queueAudience, queueRoomsOf } from './rbac';

const roles: Role[] = ['agent', 'lead', 'admin', 'auditor', 'privacy-officer'];
const groups = ['general', 'vip', 'billing'];
const ids = ['u1', 'u2', 'u3'];

describe('queue visibility (one rule for queue:list and pushes)', () => {
  it('puts a socket in the audience of a session exactly when the policy lets its user see it', () => {
    const user = fc.record({
      id: fc.constantFrom(...ids),
      roles: fc.subarray(roles, { minLength: 1 }),
      skillGroups: fc.subarray(groups),
    });
    const session = fc.record({
      skillGroup: fc.constantFrom(...groups),
      status: fc.constantFrom<SessionStatus>('bot', 'queued', 'offered', 'active', 'closed'),
      assignedAgentId: fc.option(fc.constantFrom(...ids), { nil: null }),
    });
    fc.assert(
      fc.property(user, session, (u, s) => {
        const view: UserView = { ...u, username: u.id, displayName: u.id, expert: false };
        const rooms = new Set(queueRoomsOf(view));
        const inAudience = queueAudience(s).some((r) => rooms.has(r));
        expect(inAudience).toBe(canSeeInQueue(view, s));
      }),
      { numRuns: 3000 },
    );
  });

  it("hides a colleague's active chat from an agent but shows it to the group's lead", () => {
    const agent: UserView = { id: 'a', username: 'a', displayName: 'A', roles: ['agent'], skillGroups: ['general'], expert: false };
    const lead: UserView = { ...agent, id: 'l', roles: ['lead'] };
    const colleagues = { skillGroup: 'general', status: 'active' as const, assignedAgentId: 'b' };
    expect(canSeeInQueue(agent, colleagues)).toBe(false);
    expect(canSeeInQueue(lead, colleagues)).toBe(true);
    expect(canSeeInQueue(agent, { ...colleagues, assignedAgentId: 'a' })).toBe(true);
    expect(canSeeInQueue(agent, { ...colleagues, status: 'queued', assignedAgentId: null })).toBe(true);
  });
});
