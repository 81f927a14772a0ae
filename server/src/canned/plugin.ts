import type { FastifyInstance } from 'fastify';
import { v7 as uuidv7 } from 'uuid';
import { z } from 'zod';
import {
  CannedReplyInputSchema,
  CannedSearchSchema,
  type CannedReply,
  type CannedReplyInput,
  type CannedSearch,
} from '../../../common/api/canned';
import { HuiliuError } from '../../../common/errors/codes';
import { can, scopeOf, type PolicyUser } from '../auth/policy';
import { staffOf } from '../auth/route-policy';
import { parseWith } from '../http/errors';
import type { CannedReplyStore, CannedScope } from './store';

const IdParams = z.strictObject({ id: z.uuid() });
/** Candidates read per search before ranking (a group keeps a few hundred replies at most). */
const CANDIDATES = 500;

/**
 * Where a match was found: the shortcut exactly, its start, the title, the text (lower is better).
 * Folded with NFKC and lower case on both sides, so full-width and upper-case input match.
 */
export function cannedRank(reply: Pick<CannedReply, 'shortcut' | 'title' | 'text'>, q: string): number {
  const fold = (s: string) => s.normalize('NFKC').toLowerCase();
  const needle = fold(q);
  const shortcut = fold(reply.shortcut);
  if (shortcut === needle) return 0;
  if (shortcut.startsWith(needle)) return 1;
  if (shortcut.includes(needle)) return 2;
  if (fold(reply.title).includes(needle)) return 3;
  if (fold(reply.text).includes(needle)) return 4;
  return 5;
}

/** The canned-reply use cases (issue 15), transport-free: `plugin` below serves them over REST. */
export class CannedReplies {
  constructor(private readonly o: { store: CannedReplyStore; skillGroups: () => readonly string[]; now?: () => Date }) {}

  private groupsOf(user: PolicyUser): readonly string[] {
    return scopeOf(user, 'canned.view') ?? this.o.skillGroups();
  }

  /** The caller's personal replies and their groups' (or one group's), best match first. @throws FORBIDDEN */
  async search(user: PolicyUser, query: CannedSearch): Promise<CannedReply[]> {
    if (query.skillGroup !== undefined && !can(user, 'canned.view', { skillGroup: query.skillGroup })) throw new HuiliuError('FORBIDDEN');
    const groups = query.skillGroup !== undefined ? [query.skillGroup] : this.groupsOf(user);
    const scopes: CannedScope[] = [
      { kind: 'personal', ownerId: user.id },
      ...groups.map((g) => ({ kind: 'group' as const, skillGroup: g })),
    ];
    // Full-width and compatibility forms of the query match their plain letters (ＲＥＦ finds ref).
    const q = query.q?.normalize('NFKC') || undefined;
    const found = await this.o.store.search(scopes, q, CANDIDATES);
    const ranked = q
      ? found
          .map((r) => ({ r, rank: cannedRank(r, q) }))
          .sort(
            (a, b) =>
              a.rank - b.rank || Number(b.r.ownerId !== null) - Number(a.r.ownerId !== null) || a.r.shortcut.localeCompare(b.r.shortcut),
          )
          .map((x) => x.r)
      : found;
    return ranked.slice(0, query.limit);
  }

  /** @throws VALIDATION_FAILED (unknown group), FORBIDDEN (a group the caller may not write), CANNED_SHORTCUT_TAKEN */
  async create(user: PolicyUser, input: CannedReplyInput): Promise<CannedReply> {
    const scope = this.scopeFor(user, input.skillGroup);
    return this.o.store.create(uuidv7(), scope, this.write(user, input));
  }

  /** @throws NOT_FOUND (no such reply in reach), FORBIDDEN, VALIDATION_FAILED (moving it to another group), CANNED_SHORTCUT_TAKEN */
  async update(user: PolicyUser, id: string, input: CannedReplyInput): Promise<CannedReply> {
    const existing = await this.writable(user, id);
    if (existing.skillGroup !== input.skillGroup)
      throw new HuiliuError('VALIDATION_FAILED', 'A canned reply stays in its group (or personal set); create a new one there.', [
        { path: 'skillGroup', message: 'cannot change' },
      ]);
    const updated = await this.o.store.update(id, this.write(user, input));
    if (!updated) throw new HuiliuError('NOT_FOUND');
    return updated;
  }

  /** @throws NOT_FOUND, FORBIDDEN */
  async remove(user: PolicyUser, id: string): Promise<void> {
    await this.writable(user, id);
    await this.o.store.remove(id);
  }

  private write(user: PolicyUser, input: CannedReplyInput) {
    const { shortcut, title, text, lang } = input;
    return { shortcut, title, text, lang, updatedBy: user.id, updatedAt: (this.o.now?.() ?? new Date()).toISOString() };
  }

  private scopeFor(user: PolicyUser, skillGroup: string | null): CannedScope {
    if (skillGroup === null) return { kind: 'personal', ownerId: user.id };
    if (!this.o.skillGroups().includes(skillGroup))
      throw new HuiliuError('VALIDATION_FAILED', `No skill group ${skillGroup}.`, [{ path: 'skillGroup', message: 'unknown skill group' }]);
    if (!can(user, 'canned.manage', { skillGroup })) throw new HuiliuError('FORBIDDEN');
    return { kind: 'group', skillGroup };
  }

  /** A reply the caller may change: their own personal one, or one of a group they manage. Others' personal replies do not exist for them. */
  private async writable(user: PolicyUser, id: string): Promise<CannedReply> {
    const reply = await this.o.store.get(id);
    if (!reply) throw new HuiliuError('NOT_FOUND');
    if (reply.skillGroup === null) {
      if (reply.ownerId !== user.id) throw new HuiliuError('NOT_FOUND');
      return reply;
    }
    if (!can(user, 'canned.view', { skillGroup: reply.skillGroup })) throw new HuiliuError('NOT_FOUND');
    if (!can(user, 'canned.manage', { skillGroup: reply.skillGroup })) throw new HuiliuError('FORBIDDEN');
    return reply;
  }
}

/**
 * Canned replies over REST (issue 15; contract and errors: common/api/canned.ts). Every route has
 * policy `canned.view` (agents, leads, admins); writing a group's replies also needs `canned.manage`
 * in that group (checked by `CannedReplies`). Changes are audited by the audit hook.
 */
export async function cannedPlugin(app: FastifyInstance, opts: { canned: CannedReplies }): Promise<void> {
  const { canned } = opts;
  const policy = { config: { policy: 'canned.view' as const } };
  app.get('/api/v1/canned-replies', policy, async (request) => ({
    items: await canned.search(staffOf(request), parseWith(CannedSearchSchema, request.query)),
  }));
  app.post('/api/v1/canned-replies', policy, async (request, reply) =>
    reply.status(201).send(await canned.create(staffOf(request), parseWith(CannedReplyInputSchema, request.body))),
  );
  app.put('/api/v1/canned-replies/:id', policy, async (request) => {
    const { id } = parseWith(IdParams, request.params);
    return canned.update(staffOf(request), id, parseWith(CannedReplyInputSchema, request.body));
  });
  app.delete('/api/v1/canned-replies/:id', policy, async (request, reply) => {
    const { id } = parseWith(IdParams, request.params);
    await canned.remove(staffOf(request), id);
    return reply.status(204).send();
  });
}
