import type { UserView } from '../../../common/api/auth';
import type { SessionRecord } from '../sessions/store';

/** Roles that see every skill group (DESIGN §8 RBAC). */
const ALL_GROUPS = new Set(['admin', 'auditor']);

export function seesAllGroups(user: UserView): boolean {
  return user.roles.some((r) => ALL_GROUPS.has(r));
}

/** Leads and all-group roles see how their team is doing: colleagues' load and routing candidates. */
export function seesTeam(user: UserView): boolean {
  return seesAllGroups(user) || user.roles.includes('lead');
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

type QueueItem = Pick<SessionRecord, 'skillGroup' | 'status' | 'assignedAgentId'>;

/**
 * Queue visibility, the one rule behind `queue:list` and every queue push (issue 6, B6): agents see
 * their groups' waiting contacts and their own chats; leads see every open contact of their groups;
 * admins see all. Closed sessions are in no one's queue.
 */
export function canSeeInQueue(user: UserView, s: QueueItem): boolean {
  if (s.status === 'closed') return false;
  if (s.status === 'active' && s.assignedAgentId === user.id) return true;
  if (!canSeeSession(user, s)) return false;
  if (seesAllGroups(user) || user.roles.includes('lead')) return true;
  return s.status === 'queued' || s.status === 'offered';
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
