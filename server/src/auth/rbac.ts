import type { UserView } from '../../../common/api/auth';
import type { SessionRecord } from '../sessions/store';

/** Roles that see every skill group (DESIGN §8 RBAC). */
const ALL_GROUPS = new Set(['admin', 'auditor']);

export function seesAllGroups(user: UserView): boolean {
  return user.roles.some((r) => ALL_GROUPS.has(r));
}

/** Skill groups whose sessions the user may see; null means all. */
export function visibleGroups(user: UserView): readonly string[] | null {
  return seesAllGroups(user) ? null : user.skillGroups;
}

export function canSeeSession(user: UserView, session: Pick<SessionRecord, 'skillGroup'>): boolean {
  return seesAllGroups(user) || user.skillGroups.includes(session.skillGroup);
}

/** Handling contacts (accept, reply, close) is for agents and leads of the session's group. */
export function canHandleSession(user: UserView, session: Pick<SessionRecord, 'skillGroup'>): boolean {
  return (user.roles.includes('agent') || user.roles.includes('lead')) && user.skillGroups.includes(session.skillGroup);
}

export function isStaffOnQueue(user: UserView): boolean {
  return user.roles.includes('agent') || user.roles.includes('lead') || user.roles.includes('admin');
}
