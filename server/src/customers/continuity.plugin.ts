import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import {
  CustomerLookupQuerySchema,
  LinkRequestSchema,
  MergeRequestSchema,
  TIMELINE_PAGE,
  TimelineQuerySchema,
  type CustomerIdentitiesView,
  type CustomerLookupView,
  type CustomerMergeView,
  type TimelineView,
} from '../../../common/api/customers';
import { HuiliuError } from '../../../common/errors/codes';
import { maskPii } from '../../../common/privacy/mask';
import type { UserView } from '../../../common/api/auth';
import { can } from '../auth/policy';
import { staffOf } from '../auth/route-policy';
import type { Bus } from '../bus/bus';
import { customerMerged, sessionChanged } from '../bus/events';
import { customerSkillGroups } from './facts.store';
import { parseWith } from '../http/errors';
import type { SessionViews } from '../sessions/views';
import type { CustomerMerge, SessionStore } from '../sessions/store';

export interface ContinuityPluginOptions {
  store: SessionStore;
  views: Pick<SessionViews, 'messages'>;
  bus: Bus;
}

const CustomerParams = z.object({ id: z.uuid() });
const MergeParams = z.object({ id: z.uuid() });
const noSuchCustomer = () => new HuiliuError('NOT_FOUND', 'No such customer.');

/** A name, channel id or link value as staff see it: phone, ID and card numbers and e-mail addresses in it masked (issue 17). */
const masked = (value: string) => maskPii(value);

/**
 * One person across channels over REST (issue 12, DESIGN §3, docs/continuity.md). Every route reads
 * the customer's whole merge group; "in scope" means the caller's policy reaches a skill group the
 * group was served in (admins: all), and a customer out of scope is NOT_FOUND (its existence does not leak).
 * - `GET /api/v1/customers/:id/timeline?before=&limit=` (`customer.view`): messages of every channel
 *   and conversation, newest first, `limit` (default 50, at most 200) before the message id `before`.
 * - `GET /api/v1/customers/:id/identities` (`customer.view`): members, channel identities and verified
 *   links (masked), merges.
 * - `GET /api/v1/customers/lookup?kind=&value=` or `?channel=&externalId=` (`customer.merge`): find the
 *   other customer to merge with, by a verified identifier or a channel identity.
 * - `POST /api/v1/customers/merges` `{survivorId, mergedId}` (`customer.merge`, both in scope) → 201
 *   the merge; MERGE_SAME_CUSTOMER when they are one person already.
 * - `POST /api/v1/customers/merges/:id/undo` (`customer.merge`, the survivor in scope) → the merge,
 *   undone; MERGE_ALREADY_UNDONE. Sessions it detached (one person's, open in the other's
 *   conversation) are closed and published as `session.changed`.
 * - `POST /api/v1/customers/:id/links` `{kind: phone|email, value}` (`customer.merge`) → 201 the link
 *   (masked); LINK_CONFLICT with `details.customerId` when another customer holds it.
 * Merges and undos are published as `customer.merged` (actor: the staff user): the audit record.
 */
export async function continuityPlugin(app: FastifyInstance, opts: ContinuityPluginOptions): Promise<void> {
  const { store } = opts;

  const groupsOf = (customerId: string) => customerSkillGroups(store, customerId);

  /** The customer, if it exists and `action` reaches its group for `user`; else NOT_FOUND. */
  async function inScope(user: UserView, customerId: string, action: 'customer.view' | 'customer.merge') {
    const customer = await store.getCustomer(customerId);
    if (!customer) throw noSuchCustomer();
    if (!can(user, action, { skillGroups: await groupsOf(customerId) })) throw noSuchCustomer();
    return customer;
  }

  async function published(merge: CustomerMerge, actor: string, undone: boolean): Promise<CustomerMergeView> {
    await opts.bus.publish(customerMerged(merge, actor, undone));
    return merge;
  }

  app.get('/api/v1/customers/:id/timeline', { config: { policy: 'customer.view' } }, async (request): Promise<TimelineView> => {
    const user = staffOf(request);
    const { id } = parseWith(CustomerParams, request.params);
    const query = parseWith(TimelineQuerySchema, request.query);
    const customer = await inScope(user, id, 'customer.view');
    const page = await store.timeline(id, { ...(query.before ? { before: query.before } : {}), limit: query.limit ?? TIMELINE_PAGE });
    return { customerId: id, groupId: customer.groupId, messages: await opts.views.messages(page.messages), hasOlder: page.hasOlder };
  });

  app.get('/api/v1/customers/:id/identities', { config: { policy: 'customer.view' } }, async (request): Promise<CustomerIdentitiesView> => {
    const user = staffOf(request);
    const { id } = parseWith(CustomerParams, request.params);
    const customer = await inScope(user, id, 'customer.view');
    const memberIds = await store.customerGroup(id);
    const members = (await Promise.all(memberIds.map((m) => store.getCustomer(m)))).filter((m) => m !== null);
    const root = members.find((m) => m.id === customer.groupId) ?? customer;
    const { identities, links } = await store.customerIdentities(id);
    return {
      customerId: id,
      groupId: customer.groupId,
      name: masked(root.name),
      members: members.map((m) => ({ id: m.id, name: masked(m.name), channels: m.channels })),
      identities: identities.map((i) => ({ ...i, externalId: masked(i.externalId) })),
      links: links.map((l) => ({ ...l, value: masked(l.value) })),
      merges: await store.merges(id),
    };
  });

  app.get('/api/v1/customers/lookup', { config: { policy: 'customer.merge' } }, async (request): Promise<CustomerLookupView> => {
    const user = staffOf(request);
    const query = parseWith(CustomerLookupQuerySchema, request.query);
    const found =
      'kind' in query
        ? await store.findCustomerByLink(query.kind, query.value)
        : await store.findCustomerByIdentity(query.channel, query.externalId);
    if (!found) throw noSuchCustomer();
    const customer = await inScope(user, found.id, 'customer.merge');
    return { customerId: customer.id, groupId: customer.groupId, name: masked(customer.name), channels: customer.channels };
  });

  app.post('/api/v1/customers/merges', { config: { policy: 'customer.merge' } }, async (request, reply): Promise<CustomerMergeView> => {
    const user = staffOf(request);
    const { survivorId, mergedId } = parseWith(MergeRequestSchema, request.body);
    await inScope(user, survivorId, 'customer.merge');
    await inScope(user, mergedId, 'customer.merge');
    const merge = await store.mergeCustomers({ survivorId, mergedId, by: user.id, reason: 'agent' });
    request.log.info({ by: user.id, mergeId: merge.id }, 'customers merged');
    void reply.code(201);
    return published(merge, user.id, false);
  });

  app.post('/api/v1/customers/merges/:id/undo', { config: { policy: 'customer.merge' } }, async (request): Promise<CustomerMergeView> => {
    const user = staffOf(request);
    const { id } = parseWith(MergeParams, request.params);
    const merge = await store.getMerge(id);
    if (!merge) throw new HuiliuError('NOT_FOUND', 'No such merge.');
    await inScope(user, merge.survivorId, 'customer.merge');
    const { merge: undone, detached } = await store.undoMerge(id, user.id);
    request.log.info({ by: user.id, mergeId: id, detached: detached.length }, 'customer merge undone');
    // A session left inside the other person's conversation was closed: its agent's screen is told.
    for (const session of detached) await opts.bus.publish(sessionChanged(session, 'closed', user.id));
    return published(undone, user.id, true);
  });

  app.post('/api/v1/customers/:id/links', { config: { policy: 'customer.merge' } }, async (request, reply) => {
    const user = staffOf(request);
    const { id } = parseWith(CustomerParams, request.params);
    const link = parseWith(LinkRequestSchema, request.body);
    await inScope(user, id, 'customer.merge');
    const stored = await store.linkIdentity(id, link, `agent:${user.id}`).catch(async (error: unknown) => {
      // Who holds it is said only to staff who may see that customer.
      if (error instanceof HuiliuError && error.code === 'LINK_CONFLICT') {
        const holder = (error.details as { customerId?: string } | undefined)?.customerId;
        const visible = holder && can(user, 'customer.merge', { skillGroups: await groupsOf(holder) });
        throw new HuiliuError('LINK_CONFLICT', undefined, visible ? { customerId: holder } : undefined);
      }
      throw error;
    });
    void reply.code(201);
    return { ...stored, value: masked(stored.value) };
  });
}
