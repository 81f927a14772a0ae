import type { UserView } from '../../../common/api/auth';
import type { SessionRecord } from '../sessions/store';
import { can, queueRowVisible, scopeOf, seesAllGroups } from './policy';

// Thin wrappers over policy.ts (issue 7 §4), kept for their readable names; the rules live in `can`.

export { seesAllGroups };

/** Leads and all-group roles see how their team is doing: colleagues' load and routing candidates. */
export function seesTeam(user: UserView): boolean {
  return can(user, 'team.view');
}

/** Skill groups whose sessions the user may see; null means all. */
export function visibleGroups(user: UserView): readonly string[] | null {
  return scopeOf(user, 'session.view');
}

export function canSeeSession(user: UserView, session: Pick<SessionRecord, 'skillGroup'>): boolean {
  return can(user, 'session.view', { skillGroup: session.skillGroup });
}

/** Handling contacts (accept, reply, close) is for agents and leads of the session's group. */
export function canHandleSession(user: UserView, session: Pick<SessionRecord, 'skillGroup'>): boolean {
  return can(user, 'session.handle', { skillGroup: session.skillGroup });
}

/** Who may be on the live queue (the agent socket): `queue.view` without a resource. */
export function isStaffOnQueue(user: UserView): boolean {
  return can(user, 'queue.view');
}

type QueueItem = Pick<SessionRecord, 'skillGroup' | 'status' | 'assignedAgentId'>;

/**
 * Queue visibility, the one rule behind `queue:list` and every queue push (issue 6, B6): agents see
 * their groups' waiting contacts and their own chats; leads see every open contact of their groups;
 * admins see all. Closed sessions are in no one's queue. (policy.ts `queueRowVisible`.)
 */
export function canSeeInQueue(user: UserView, s: QueueItem): boolean {
  return queueRowVisible(user, s);
}

/** socket.io rooms; the prefixes are distinct and ids never contain ':' before their own part. */
export const queueRooms = {
  agent: (userId: string) => `agent:${userId}`,
  waiting: (group: string) => `waiting:${group}`,
  group: (group: string) => `group:${group}`,
  all: 'all',
} as const;

/** The rooms a staff socket joins: `canSeeInQueue` expressed as room membership. */
export function queueRoomsOf(user: UserView): string[] {
  const rooms = [queueRooms.agent(user.id), ...user.skillGroups.map(queueRooms.waiting)];
  if (user.roles.includes('lead')) rooms.push(...user.skillGroups.map(queueRooms.group));
  if (seesAllGroups(user)) rooms.push(queueRooms.all);
  return rooms;
}

/**
 * The rooms that may see `s` in their queue; a socket is in one of them exactly when
 * `canSeeInQueue(user, s)` (checked for every role and status in rbac.test.ts).
 */
export function queueAudience(s: QueueItem): string[] {
  if (s.status === 'closed') return [];
  const shared = [queueRooms.group(s.skillGroup), queueRooms.all];
  if (s.status === 'active') return s.assignedAgentId ? [queueRooms.agent(s.assignedAgentId), ...shared] : shared;
  return [queueRooms.waiting(s.skillGroup), ...shared];
}

/** Every room whose sockets may have shown `s` before its last change (to tell them to drop it). */
export function queueWatchers(s: QueueItem): string[] {
  return [queueRooms.waiting(s.skillGroup), queueRooms.group(s.skillGroup), queueRooms.all];
}
