import type { Role, UserView } from '../../../common/api/auth';
import type { SessionStatus } from '../../../common/api/sessions';

/**
 * Every act the server authorizes (DESIGN §8 RBAC). One list, one rule per act: REST routes name
 * theirs in route config (`config: { policy }`), socket events in the hub's event → action map, and
 * use cases and views ask `can()` with the resource at hand.
 */
export const ACTIONS = [
  /** Own account: who am I, sign out. Every signed-in user. */
  'account.self',
  /** Read a session (detail, history, list). Resource: `{ skillGroup }`. */
  'session.view',
  /** Accept, reply, close, release a session. Resource: `{ skillGroup }`. */
  'session.handle',
  /** Be on the live queue (agent socket), and see one queue row. Resource: `{ skillGroup, status, assignedAgentId }`. */
  'queue.view',
  /** Set one's own presence (available / away) on the agent socket. */
  'presence.set',
  /** See colleagues' load and routing candidates. Resource: `{ skillGroup }`. */
  'team.view',
  /** See service metrics. Resource: `{ skillGroup }` (a group's numbers). */
  'metrics.view',
  /** See a customer's profile. Resource: `{ skillGroups }`, the groups the customer has sessions in. */
  'customer.view',
  /** Read the knowledge base: entries, export, version history. Not scoped by skill group. */
  'kb.view',
  /** Change the knowledge base: import, create, update, delete entries. Not scoped by skill group. */
  'kb.manage',
  /** Ask the AI language core to analyse a text (`POST /api/v1/ai/analyze`). Not scoped by skill group. */
  'ai.analyze',
  /** See what agents did with AI drafts (`GET /api/v1/ai/feedback`, issue 10). Resource: `{ skillGroup }`. */
  'ai.feedback',
  /** Read the routing config and its versions (`GET /api/v1/routing/config…`). Not scoped by skill group. */
  'routing.view',
  /** Publish a routing config version or roll back to one (`PUT /api/v1/routing/config`). Not scoped by skill group. */
  'routing.manage',
  /** Read and publish the SLA policies (`GET|PUT /api/v1/sla/policies`, issue 16). Not scoped by skill group. */
  'sla.manage',
  /** Import customers' value facts (`POST /api/v1/customers/facts/import`, issue 11). Not scoped by skill group. */
  'customer.import',
  /**
   * Merge two customers into one person, undo a merge, add a verified identifier (issue 12).
   * Resource: `{ skillGroups }` of each customer in turn: both must be in the user's scope.
   */
  'customer.merge',
  /**
   * Run the channels' plumbing: list an app's dead-lettered webhook deliveries and re-queue them
   * (issue 13). Not scoped by skill group.
   */
  'channel.manage',
  /** See the key-encryption keys, rotate them and retire old ones (issue 14). Not scoped. */
  'keys.manage',
  /** Search the audit log (issue 17). Not scoped: auditors see every group's staff. */
  'audit.view',
  /**
   * See personal data unmasked on demand (issue 17): phone numbers, ID numbers, card numbers and
   * e-mails are masked in every response to staff; this act reveals one value, and is audited.
   * Resource: `{ skillGroups }` of the customer (as `customer.view`).
   */
  'pii.reveal',
  /** Ask for a customer's data export or erasure (GDPR Art. 15/17/20, PIPL; issue 17). Not scoped. */
  'privacy.request',
  /**
   * Approve or reject another person's export or erasure request, and see every request (four-eyes;
   * issue 17). Not scoped. The approver is never the requester (checked by the use case).
   */
  'privacy.approve',
  /** Set the conversation retention per skill group (issue 17). Not scoped. */
  'retention.manage',
  /**
   * Sign another staff user out everywhere: revoke every session (bearer token) of theirs and end
   * their sockets (issue 17, e.g. a stolen laptop). Not scoped: staff accounts belong to no group.
   */
  'account.revoke',
  /**
   * Use canned replies (issue 15): search them, keep personal ones. Resource: `{ skillGroup }` for a
   * group's replies.
   */
  'canned.view',
  /** Write a skill group's canned replies (issue 15). Resource: `{ skillGroup }`. */
  'canned.manage',
  /** Add an internal note to a conversation (issue 15; never sent to the customer). Resource: `{ skillGroup }` (handled groups). */
  'session.note',
  /**
   * Supervise a conversation (issue 16): open it read-only and live, whisper to its agent, reassign
   * it. Resource: `{ skillGroup }`: leads their groups, admins all. Agents never.
   */
  'session.supervise',
  /** Barge in: write to a supervised conversation's customer (issue 16). Resource: `{ skillGroup }` as `session.supervise`. */
  'session.barge',
  /** Set another agent's presence (issue 16). Resource: `{ skillGroups }` of the agent: one in scope. */
  'presence.supervise',
  /**
   * Watch the live board of skill groups (issue 16, docs/lead-board.md): queues, agents' states and
   * loads, service level. Resource: `{ skillGroup }`. Leads their own groups, admins every group.
   */
  'board.view',
  /**
   * Ask the agent holding a conversation to hand it over to you (issue 15, docs/collision.md).
   * Resource: `{ skillGroup }`: only a group the user handles (agents and leads).
   */
  'session.takeover',
] as const;
export type Action = (typeof ACTIONS)[number];

/** What an action is about; each action reads the fields it names above. */
export interface PolicyResource {
  skillGroup?: string;
  /** For `customer.view`: every group the customer was served in. */
  skillGroups?: readonly string[];
  status?: SessionStatus;
  assignedAgentId?: string | null;
}

/** The fields of a user the policy reads. */
export type PolicyUser = Pick<UserView, 'id' | 'roles' | 'skillGroups'>;

/** Roles that see every skill group (DESIGN §8 RBAC). */
const ALL_GROUP_ROLES: readonly Role[] = ['admin', 'auditor'];

/** Which roles may do an action at all (in some scope); the scope rule below then narrows it. */
const ROLES: Record<Action, readonly Role[]> = {
  'account.self': ['agent', 'lead', 'admin', 'auditor', 'privacy-officer'],
  // Any staff role reads sessions, each within its scope (a privacy officer's are its skill groups).
  'session.view': ['agent', 'lead', 'admin', 'auditor', 'privacy-officer'],
  'session.handle': ['agent', 'lead'],
  'queue.view': ['agent', 'lead', 'admin'],
  'presence.set': ['agent', 'lead', 'admin'],
  'team.view': ['lead', 'admin', 'auditor'],
  'metrics.view': ['agent', 'lead', 'admin', 'auditor'],
  'customer.view': ['agent', 'lead', 'admin', 'auditor', 'privacy-officer'],
  // The FAQ answers agents reuse; only admins change them (every change retrains the classifier).
  'kb.view': ['agent', 'lead', 'admin'],
  'kb.manage': ['admin'],
  'ai.analyze': ['agent', 'lead', 'admin'],
  'ai.feedback': ['lead', 'admin'],
  'routing.view': ['lead', 'admin', 'auditor'],
  'routing.manage': ['admin'],
  // SLA targets and business hours hold the whole deployment to account: admins, like the routing config.
  'sla.manage': ['admin'],
  // Facts from a CRM export change every customer's routing value: admins only, like the routing config.
  'customer.import': ['admin'],
  // Joining two people's histories is a handling act: the staff who serve them, not auditors.
  'customer.merge': ['agent', 'lead', 'admin'],
  // Which apps a message could not reach, and sending it again: the deployment's plumbing.
  'channel.manage': ['admin'],
  // Rotating the KEK touches every wrapped data key: the deployment's admins.
  'keys.manage': ['admin'],
  // Separation of duties: the people whose actions are logged do not read the log.
  'audit.view': ['auditor'],
  // Staff who serve the customer may look at a masked value when the contact needs it; each look is audited.
  'pii.reveal': ['agent', 'lead'],
  // Anyone answering a data-subject request may file it; only privacy officers decide (a second person).
  'privacy.request': ['agent', 'lead', 'admin', 'privacy-officer'],
  'privacy.approve': ['privacy-officer'],
  'retention.manage': ['admin', 'privacy-officer'],
  // Ending someone else's sessions is account administration: admins only.
  'account.revoke': ['admin'],
  // Agents use the group's replies and keep their own; leads write their groups' set, admins any.
  'canned.view': ['agent', 'lead', 'admin'],
  'canned.manage': ['lead', 'admin'],
  // Notes are part of handling a contact: the people who handle them.
  'session.note': ['agent', 'lead'],
  // Supervision is what leads do for their groups; admins may step in anywhere. Agents never.
  'session.supervise': ['lead', 'admin'],
  'session.barge': ['lead', 'admin'],
  'presence.supervise': ['lead', 'admin'],
  // Supervising queues is the lead's job; admins see every group. Agents and auditors do not watch live.
  'board.view': ['lead', 'admin'],
  // A take-over makes you the contact's handler: the people who handle that group's contacts.
  'session.takeover': ['agent', 'lead'],
};

const has = (user: PolicyUser, roles: readonly Role[]) => user.roles.some((r) => roles.includes(r));

/** True when the user's roles reach every skill group (admin, auditor). */
export function seesAllGroups(user: PolicyUser): boolean {
  return has(user, ALL_GROUP_ROLES);
}

/** In scope: an all-group role, or the group is one of the user's. */
const inScope = (user: PolicyUser, group: string) => seesAllGroups(user) || user.skillGroups.includes(group);

/**
 * May `user` do `action` on `resource`? Without a resource: may the user do the action at all, in
 * some scope (the check a route or socket event makes before its handler loads anything). With one:
 * the role rule and the skill-group scope (DESIGN §8: agents see only sessions, customers and metrics
 * of their skill groups; admins and auditors see all groups). Pure and total: never throws; a
 * resource without the group field its action reads is refused (fail closed).
 *
 * Scope rules: `session.handle` needs the group among the user's own even for an admin (admins
 * supervise, agents and leads handle); `queue.view` rows follow the queue rule (agents: their groups'
 * waiting contacts and their own chats; leads: every open contact of their groups; admins: all;
 * closed sessions: no one).
 */
export function can(user: PolicyUser, action: Action, resource?: PolicyResource): boolean {
  if (!has(user, ROLES[action])) return false;
  if (!resource) return true;
  switch (action) {
    case 'account.self':
    case 'presence.set':
    case 'kb.view':
    case 'kb.manage':
    case 'ai.analyze':
    case 'routing.view':
    case 'routing.manage':
    case 'sla.manage':
    case 'customer.import':
    case 'channel.manage':
    case 'keys.manage':
    case 'audit.view':
    case 'privacy.request':
    case 'privacy.approve':
    case 'retention.manage':
    case 'account.revoke':
      return true;
    case 'session.view':
    case 'team.view':
    case 'metrics.view':
    case 'ai.feedback':
    case 'canned.view':
    case 'canned.manage':
    case 'board.view':
      return resource.skillGroup !== undefined && inScope(user, resource.skillGroup);
    case 'session.handle':
    case 'session.note':
    case 'session.takeover':
      return resource.skillGroup !== undefined && user.skillGroups.includes(resource.skillGroup);
    case 'session.supervise':
    case 'session.barge':
      return resource.skillGroup !== undefined && inScope(user, resource.skillGroup);
    case 'presence.supervise':
      return seesAllGroups(user) || (resource.skillGroups ?? []).some((g) => user.skillGroups.includes(g));
    case 'customer.view':
    case 'customer.merge':
    case 'pii.reveal':
      return seesAllGroups(user) || (resource.skillGroups ?? []).some((g) => user.skillGroups.includes(g));
    case 'queue.view':
      return queueRowVisible(user, resource);
  }
}

/**
 * The queue rule alone, without the role gate of `queue.view` (the agent socket's connect check makes
 * that one): rbac's room membership mirrors exactly this function.
 */
export function queueRowVisible(user: PolicyUser, s: PolicyResource): boolean {
  if (s.status === 'closed') return false;
  if (s.status === 'active' && s.assignedAgentId === user.id) return true;
  if (s.skillGroup === undefined || !inScope(user, s.skillGroup)) return false;
  if (seesAllGroups(user) || user.roles.includes('lead')) return true;
  // Waiting contacts, and contacts with the AI (issue 10: any agent of the group may take one over).
  return s.status === 'queued' || s.status === 'offered' || s.status === 'bot';
}

/**
 * Skill groups in which the user may do `action`; null means all groups (also for the acts that no
 * skill group scopes, such as `kb.view`, once the role allows them).
 */
export function scopeOf(user: PolicyUser, action: Action): readonly string[] | null {
  if (!has(user, ROLES[action])) return [];
  if (action === 'session.handle' || action === 'session.note') return user.skillGroups;
  if (action === 'session.takeover') return user.skillGroups;
  // The knowledge base belongs to no skill group.
  if (action === 'kb.view' || action === 'kb.manage' || action === 'ai.analyze') return null;
  // The routing config is one for the whole deployment.
  if (action === 'routing.view' || action === 'routing.manage' || action === 'customer.import' || action === 'channel.manage') return null;
  if (action === 'sla.manage') return null;
  // Data-subject requests and retention are deployment-wide.
  if (action === 'privacy.request' || action === 'privacy.approve' || action === 'retention.manage') return null;
  // Staff accounts belong to no skill group.
  if (action === 'account.revoke') return null;
  return seesAllGroups(user) ? null : user.skillGroups;
}

/**
 * How a REST route is authorized: an `Action` (a signed-in user who `can` do it, checked by the
 * policy hook), or one of the other authentications: `public` (no one: health, login, static pages),
 * `channel-key` (an app channel's `X-Huiliu-Key`, checked by that plugin), `loopback-or-staff` (a
 * local scraper or any signed-in staff user: `/metrics`).
 */
export type RoutePolicy = Action | 'public' | 'channel-key' | 'loopback-or-staff';
export const ROUTE_POLICIES_OTHER = ['public', 'channel-key', 'loopback-or-staff'] as const;

export function isRoutePolicy(value: unknown): value is RoutePolicy {
  return (
    typeof value === 'string' &&
    ((ACTIONS as readonly string[]).includes(value) || (ROUTE_POLICIES_OTHER as readonly string[]).includes(value))
  );
}
