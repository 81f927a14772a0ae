import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import {
  CustomerRevealRequestSchema,
  MessageRevealParamsSchema,
  type CustomerReveal,
  type MessageReveal,
} from '../../../common/api/reveal';
import { HuiliuError } from '../../../common/errors/codes';
import type { Envelope } from '../../../common/message/envelope';
import { contentWords } from '../../../common/privacy/staff-view';
import type { AuditEntryInput } from '../audit/audit';
import { can } from '../auth/policy';
import { staffOf } from '../auth/route-policy';
import { customerSkillGroups } from '../customers/facts.store';
import { parseWith } from '../http/errors';
import type { SessionStore } from './store';

/** Pages of HISTORY_PAGE messages searched back for a revealed message (10,000 messages). */
const SEARCH_PAGES = 50;
const PAGE = 200;

/** The message `messageId` of a conversation, newest pages first; null when it is not in the last SEARCH_PAGES pages. */
async function findMessage(
  store: Pick<SessionStore, 'recentMessages'>,
  conversationId: string,
  messageId: string,
): Promise<Envelope | null> {
  let beforeSeq: number | undefined;
  for (let i = 0; i < SEARCH_PAGES; i++) {
    const page = await store.recentMessages(conversationId, { limit: PAGE, ...(beforeSeq ? { beforeSeq } : {}) });
    const found = page.messages.find((m) => m.id === messageId);
    if (found) return found;
    if (!page.hasOlder || page.messages.length === 0) return null;
    beforeSeq = page.messages[0]!.seq;
  }
  return null;
}

const CustomerParams = z.object({ id: z.uuid() });

/**
 * Revealing masked personal data on demand (issue 17, docs/privacy-masking.md; schemas in
 * common/api/reveal.ts). Policy `pii.reveal`: agents and leads, for customers of their skill groups.
 * - `POST /api/v1/sessions/:id/messages/:messageId/reveal` → `MessageReveal`: the message's words
 *   unmasked. SESSION_NOT_FOUND for a session the caller may not see, NOT_FOUND for a message not in
 *   its conversation.
 * - `POST /api/v1/customers/:id/reveal` `{field: name|identities|links}` → `CustomerReveal`.
 *   NOT_FOUND for an unknown customer or one outside the caller's groups (its existence does not leak).
 * Each reveal that answers is one audit entry `pii.reveal` (target the session or customer; detail the
 * message id or the field; never the value); refused ones are recorded by the audit hook under the
 * same action with their outcome.
 */
export async function revealPlugin(
  app: FastifyInstance,
  opts: { store: SessionStore; audit?: (entry: AuditEntryInput) => void },
): Promise<void> {
  const { store } = opts;

  const audited = (request: FastifyRequest, target: { kind: string; id: string }, detail: Record<string, string>) => {
    const user = staffOf(request);
    let ip: string | undefined;
    try {
      ip = request.ip;
    } catch {
      ip = undefined;
    }
    opts.audit?.({
      actor: { kind: 'staff', id: user.id, name: user.username },
      action: 'pii.reveal',
      target,
      outcome: 'ok',
      detail,
      ...(ip ? { ip } : {}),
    });
  };

  app.post(
    '/api/v1/sessions/:id/messages/:messageId/reveal',
    { config: { policy: 'pii.reveal' } },
    async (request): Promise<MessageReveal> => {
      const user = staffOf(request);
      const { id, messageId } = parseWith(MessageRevealParamsSchema, request.params);
      const session = await store.getSession(id);
      if (!session || !can(user, 'session.view', { skillGroup: session.skillGroup })) throw new HuiliuError('SESSION_NOT_FOUND');
      if (!can(user, 'pii.reveal', { skillGroups: [session.skillGroup] })) throw new HuiliuError('SESSION_NOT_FOUND');
      const message = await findMessage(store, session.conversationId, messageId);
      if (!message) throw new HuiliuError('NOT_FOUND', 'No such message in this session.');
      audited(request, { kind: 'session', id: session.id }, { messageId });
      return { sessionId: session.id, messageId, text: contentWords(message) };
    },
  );

  app.post('/api/v1/customers/:id/reveal', { config: { policy: 'pii.reveal' } }, async (request): Promise<CustomerReveal> => {
    const user = staffOf(request);
    const { id } = parseWith(CustomerParams, request.params);
    const { field } = parseWith(CustomerRevealRequestSchema, request.body ?? {});
    const customer = await store.getCustomer(id);
    if (!customer || !can(user, 'pii.reveal', { skillGroups: await customerSkillGroups(store, id) }))
      throw new HuiliuError('NOT_FOUND', 'No such customer.');
    let values: string[];
    if (field === 'name') values = [customer.name];
    else {
      const { identities, links } = await store.customerIdentities(id);
      values = field === 'identities' ? identities.map((i) => i.externalId) : links.map((l) => l.value);
    }
    audited(request, { kind: 'customer', id }, { field });
    return { customerId: id, field, values };
  });
}
