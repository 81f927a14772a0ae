import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_ROUTING_CONFIG, type RoutingConfig } from '../../../common/routing/types';
import type { Bus } from '../bus/bus';
import { createMemoryBus } from '../bus/bus.memory';
import { Ingest } from '../gateway/ingest';
import type { KeyProvider } from '../keys/provider';
import { createLocalKeyProvider } from '../keys/provider.local';
import { createLogger } from '../logging/logger';
import { draft } from '../sessions/store.contract';
import type { SessionStore } from '../sessions/store';
import { createSqliteSessionStore } from '../sessions/store.sqlite';
import { AgentPool } from './agent-pool';
import { createSqliteRoutingConfigStore } from './config-store.sqlite';
import { scoreContact } from './score';
import { createCpuPool } from '../workers/pool';
import { createRouter, type Router } from './router';
import { until } from '../../test/support/until';

describe('router', () => {
  let dir: string;
  let keys: KeyProvider;
  let store: SessionStore;
  let bus: Bus;
  let pool: AgentPool;
  let router: Router;
  let ingest: Ingest;
  let config: RoutingConfig;

  const agent = (id: string, skillGroups: string[], expert = false, idleSince = 0) =>
    pool.connect({ id, username: id, displayName: id, skillGroups, expert }, 0, idleSince);

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'huiliu-router-'));
    keys = createLocalKeyProvider(join(dir, 'keys'));
    store = await createSqliteSessionStore({ path: join(dir, 'db.sqlite'), keys });
    bus = createMemoryBus();
    pool = new AgentPool();
    config = {
      ...DEFAULT_ROUTING_CONFIG,
      offerTimeoutMs: 150,
      capacity: { ...DEFAULT_ROUTING_CONFIG.capacity, chat: 2 },
      reassignAfterMs: 200,
    };
    router = createRouter({ store, bus, pool, config: () => config, logger: createLogger({ level: 'silent' }) });
    ingest = new Ingest(store, bus);
  });
  afterEach(async () => {
    await router.stop();
    await bus.close();
    await store.shutdown();
    rmSync(dir, { recursive: true, force: true });
  });

  const contact = async (externalId: string, text = 'Where is my parcel?', skillGroup = 'general') => {
    const r = await ingest.accept(draft({ identity: { channel: 'WB', externalId }, text }), skillGroup);
    await until(async () => (await store.getSession(r.session.id))?.routing !== null);
    return (await store.getSession(r.session.id))!;
  };

  it('offers a new contact to the longest-idle available agent of its group', async () => {
    await router.start();
    agent('busy-newer', ['general'], false, 2000);
    agent('idle-longest', ['general'], false, 1000);
    agent('other-group', ['vip'], false, 0);
    const s = await contact('r-1');
    expect(s.status).toBe('offered');
    expect(s.offeredAgentId).toBe('idle-longest');
    expect(s.routing?.offeredTo).toBe('idle-longest');
  });

  it('gives an ai-tier contact to the AI tier when it is available, and to a person with the reason when not', async () => {
    await router.stop();
    let available = false;
    router = createRouter({
      store,
      bus,
      pool,
      config: () => config,
      logger: createLogger({ level: 'silent' }),
      aiTier: () => (available ? { available: true } : { available: false, why: 'no knowledge-base model loaded yet' }),
    });
    await router.start();
    agent('a1', ['general']);
    const offered = await contact('r-ai-off');
    expect(offered.routing?.tier).toBe('ai');
    expect(offered.status).toBe('offered');
    expect(offered.routing?.reasons.find((r) => r.factor === 'handover')?.note).toMatch(/no knowledge-base model/);

    available = true;
    const bot = await contact('r-ai-on');
    expect(bot.status).toBe('bot');
    expect(bot.offeredAgentId).toBeNull();
    expect(bot.routing?.reasons.some((r) => r.factor === 'ai')).toBe(true);
    expect(await store.decisions(bot.id)).toHaveLength(1);

    // Handed over: offered at once, with the hand-over in the explanation and the trigger in the log.
    const handover = {
      at: new Date().toISOString(),
      reason: 'button' as const,
      by: 'customer',
      intent: null,
      confidence: null,
      noAgentOnline: false,
    };
    await store.handOver(bot.id, { handover });
    const routed = await router.handedOver(bot.id);
    expect(routed).toMatchObject({ status: 'offered', offeredAgentId: 'a1' });
    expect(routed?.routing?.trigger).toBe('handed-over');
    expect(routed?.routing?.reasons.some((r) => r.factor === 'ai')).toBe(false);
    expect(routed?.routing?.reasons.at(-1)?.note).toMatch(/handed over by customer \(button\)/);
    expect((await store.decisions(bot.id)).map((d) => d.decision.trigger)).toEqual(['new', 'handed-over']);
    // A session that is not waiting is left alone.
    expect(await router.handedOver(offered.id)).toBeNull();
  });

  it('scores through an injected scorer (the server sends long texts to the CPU pool) with the same decision', async () => {
    const cpu = createCpuPool({ threads: 1 });
    const scored: number[] = [];
    await router.stop();
    router = createRouter({
      store,
      bus,
      pool,
      config: () => config,
      logger: createLogger({ level: 'silent' }),
      score: async (facts) => {
        scored.push(facts.difficulty.text.length);
        return cpu.run('score', facts);
      },
    });
    try {
      await router.start();
      const text = '我的订单到底什么时候发货？'.repeat(300);
      const s = await contact('r-pool', text);
      expect(scored).toEqual([text.length]);
      const inline = scoreContact({
        value: { spend: 0, csat: null, contacts30d: 1 },
        difficulty: { text, channel: 'WB', contacts30d: 1 },
        config,
      });
      expect(s.routing).toMatchObject({ difficultyScore: inline.difficulty.score, priority: inline.priority, tier: inline.tier });
    } finally {
      await cpu.close();
    }
  });

  it('prefers an expert for an expert-tier contact', async () => {
    config = { ...config, thresholds: { expert: 5, assisted: 2 } }; // every contact is expert tier
    await router.start();
    agent('generalist', ['general'], false, 0);
    agent('expert', ['general'], true, 5000);
    const s = await contact('r-2');
    expect(s.routing?.tier).toBe('expert');
    expect(s.offeredAgentId).toBe('expert');
  });

  it('passes an unanswered offer to the next agent when it times out', async () => {
    await router.start();
    agent('first', ['general'], false, 0);
    agent('second', ['general'], false, 1);
    const s = await contact('r-3');
    expect(s.offeredAgentId).toBe('first');
    await until(async () => (await store.getSession(s.id))?.offeredAgentId === 'second');
    // Everyone let it lapse: it goes round again once the first agent's cool-down has passed, never stranded.
    await until(async () => (await store.getSession(s.id))?.offeredAgentId === 'first');
  });

  it('offers a contact again to the only agent after a missed offer, once a cool-down has passed', async () => {
    config = { ...config, offerTimeoutMs: 1000 };
    await router.start();
    agent('alone', ['general']);
    const s = await contact('r-lapse');
    expect(s.offeredAgentId).toBe('alone');
    await until(async () => (await store.getSession(s.id))?.status === 'queued', 3000); // missed: waits out the cool-down
    await until(async () => (await store.getSession(s.id))?.offeredAgentId === 'alone', 3000);
    const triggers = (await store.decisions(s.id)).map((d) => d.decision.trigger);
    expect(triggers).toEqual(expect.arrayContaining(['new', 'timeout', 'cooled-down']));
  });

  it('offers a missed contact at once to an agent who comes back (a page reload)', async () => {
    config = { ...config, offerTimeoutMs: 60_000 };
    await router.start();
    agent('reloader', ['general']);
    const s = await contact('r-reload');
    expect(s.offeredAgentId).toBe('reloader');
    pool.disconnect('reloader');
    await router.agentGone('reloader');
    expect((await store.getSession(s.id))?.status).toBe('queued');
    agent('reloader', ['general']);
    await router.agentAvailable('reloader');
    expect((await store.getSession(s.id))?.offeredAgentId).toBe('reloader');
  });

  it('keeps a contact queued when nobody is free, and offers it when someone becomes available', async () => {
    await router.start();
    const s = await contact('r-4');
    expect(s.status).toBe('queued');
    expect(s.routing?.assignment).toMatch(/no available agent/);
    agent('late', ['general']);
    await router.agentAvailable('late');
    expect((await store.getSession(s.id))?.offeredAgentId).toBe('late');
  });

  it('respects chat capacity, counting pending offers', async () => {
    // Offers that stay pending for the whole test: a lapsed one would free its slot.
    config = { ...config, offerTimeoutMs: 60_000 };
    await router.start();
    agent('solo', ['general']);
    const a = await contact('cap-1');
    const b = await contact('cap-2');
    const c = await contact('cap-3');
    expect([a.offeredAgentId, b.offeredAgentId, c.offeredAgentId]).toEqual(['solo', 'solo', null]);
  });

  it('routes contacts stored before a restart (crash recovery)', async () => {
    const r = await store.appendInbound(draft({ identity: { channel: 'AP', externalId: 'pre-crash' } }), { skillGroup: 'general' });
    expect(r.session.routing).toBeNull();
    agent('on-duty', ['general']);
    await router.start();
    const s = await store.getSession(r.session.id);
    expect(s?.routing).not.toBeNull();
    expect(s?.offeredAgentId).toBe('on-duty');
  });

  it('takes the chats of an agent who stays gone back to the queue and offers them to another agent', async () => {
    await router.start();
    agent('leaver', ['general'], false, 0);
    const s = await contact('gone-1');
    await store.claim(s.id, 'leaver');
    pool.setActiveChats('leaver', await store.activeChatCount('leaver'), Date.now());
    router.settle(s.id);
    const changes: { status: string; reason?: string }[] = [];
    await bus.subscribe('session.changed', 'test', (e) => void changes.push(e.payload));
    // The leaver's app dies; a colleague is on duty.
    pool.disconnect('leaver');
    router.agentDisconnected('leaver');
    agent('colleague', ['general'], false, 0);
    await until(async () => (await store.getSession(s.id))?.offeredAgentId === 'colleague');
    expect(await store.getSession(s.id)).toMatchObject({ status: 'offered', assignedAgentId: null });
    expect(changes[0]).toMatchObject({ status: 'queued', reason: 'released' });
  });

  it('reads the routing config at each decision, so a version published after start applies to the next contact', async () => {
    const valid = { ...DEFAULT_ROUTING_CONFIG, capacity: { ...DEFAULT_ROUTING_CONFIG.capacity, chat: 2 } }; // the store refuses the short test time-outs
    const configs = createSqliteRoutingConfigStore({ path: join(dir, 'db.sqlite'), seed: valid });
    await router.stop();
    router = createRouter({ store, bus, pool, config: () => configs.current(), logger: createLogger({ level: 'silent' }) });
    await router.start();
    agent('expert', ['general'], true, 0);
    const before = await contact('cfg-1');
    expect(before.routing).toMatchObject({ configVersion: 1, offerConfigVersion: 1, tier: 'ai' });
    await configs.publish({ ...valid, thresholds: { expert: 5, assisted: 2 } }, 'admin-1');
    const after = await contact('cfg-2');
    expect(after.routing).toMatchObject({ configVersion: 2, offerConfigVersion: 2, tier: 'expert' });
    expect((await store.decisions(after.id))[0]?.configVersion).toBe(2);
    await configs.close();
  });

  it('logs each decision with its facts and every candidate, and appends a re-offer instead of overwriting', async () => {
    await router.start();
    agent('first', ['general'], false, 0);
    agent('second', ['general'], false, 1);
    agent('on-break', ['general'], false, 0);
    pool.setPresence('on-break', 'away', 0);
    agent('vip-only', ['vip'], false, 0);
    const s = await contact('log-1', 'Order 12345 is late!!');
    await until(async () => (await store.getSession(s.id))?.offeredAgentId === 'second');
    const log = await store.decisions(s.id);
    expect(log.map((e) => [e.decision.trigger, e.decision.offeredTo])).toEqual([
      ['new', 'first'],
      ['timeout', 'second'],
    ]);
    const [offered, reoffered] = log.map((e) => e.decision);
    const first = (await store.listMessages(s.conversationId))[0]!;
    expect(offered?.facts).toEqual({
      value: { spend: 0, csat: null, contacts30d: 1 },
      difficulty: { messageId: first.id, channel: 'WB', contacts30d: 1 },
    });
    const byAgent = (d: typeof offered) => Object.fromEntries((d?.candidates ?? []).map((c) => [c.agentId, c]));
    expect(Object.keys(byAgent(offered)).sort()).toEqual(['first', 'on-break', 'second', 'vip-only']);
    expect(byAgent(offered)).toMatchObject({
      first: { chosen: true, codes: ['chosen'], proficiency: 3, skillGroup: 'general' },
      second: { chosen: false, codes: ['shorter-idle'], reasons: [expect.stringMatching(/first idle longer/)] },
      'on-break': { chosen: false, codes: ['presence'], reasons: ['presence away'] },
      'vip-only': { chosen: false, codes: ['not-in-skill-group'], reasons: ['not in skill group general'] },
    });
    expect(offered).toMatchObject({ ring: { index: 0, minProficiency: 1, skillGroups: ['general'] }, waitedMs: expect.any(Number) });
    expect(byAgent(reoffered)).toMatchObject({
      first: {
        chosen: false,
        codes: ['declined-recently'],
        reasons: [expect.stringMatching(/^declined or missed this contact \d+ s ago$/)],
      },
      second: { chosen: true },
    });
    // The first entry is as it was written: the re-offer did not overwrite it.
    expect(offered?.offeredTo).toBe('first');
    expect(Date.parse(log[1]!.at)).toBeGreaterThanOrEqual(Date.parse(log[0]!.at));
  });

  it('counts pending offers from the store, so offers made before a restart still hold capacity', async () => {
    agent('solo', ['general']);
    await router.start();
    const a = await contact('held-1');
    expect(a.offeredAgentId).toBe('solo');
    // A new router (a restart, or another node) knows nothing in memory of that offer.
    await router.stop();
    router = createRouter({
      store,
      bus,
      pool,
      config: () => ({ ...config, capacity: { ...DEFAULT_ROUTING_CONFIG.capacity, chat: 1 } }),
      logger: createLogger({ level: 'silent' }),
    });
    await router.start();
    const b = await contact('held-2');
    expect(b.status).toBe('queued');
    // Issue 18: the candidates are kept beside the session row, read by the detail view.
    expect(await store.routingCandidates!(b.id)).toEqual([
      {
        agentId: 'solo',
        chosen: false,
        reasons: ['at capacity: 1/1 chats (0 active + 1 offered)'],
        details: [
          { code: 'at-capacity-chats', params: { n: 1, max: 1 } },
          { code: 'store-load', params: { active: 0, offered: 1 } },
        ],
        codes: ['at-capacity'],
        proficiency: 3,
        skillGroup: 'general',
      },
    ]);
  });

  it('leaves the chats alone when the agent comes back within the grace period', async () => {
    await router.start();
    agent('blinker', ['general'], false, 0);
    const s = await contact('gone-2');
    await store.claim(s.id, 'blinker');
    router.settle(s.id);
    pool.disconnect('blinker');
    router.agentDisconnected('blinker');
    agent('blinker', ['general'], false, 0);
    await router.agentAvailable('blinker');
    await new Promise((r) => setTimeout(r, 400));
    expect(await store.getSession(s.id)).toMatchObject({ status: 'active', assignedAgentId: 'blinker' });
  });

  describe('engine rules in the live router (issue 11)', () => {
    /** A router whose scorer reads the tier and priority from the text ("expert 85"), under `over` config. */
    const scripted = async (over: Partial<RoutingConfig>) => {
      await router.stop();
      config = { ...config, offerTimeoutMs: 60_000, ...over };
      router = createRouter({
        store,
        bus,
        pool,
        config: () => config,
        logger: createLogger({ level: 'silent' }),
        score: ({ difficulty: { text } }) => {
          const [tier, p] = text.split(' ') as ['expert' | 'assisted' | 'ai', string];
          return { value: { score: Number(p), reasons: [] }, difficulty: { score: Number(p), reasons: [] }, priority: Number(p), tier };
        },
      });
      await router.start();
    };

    it('an agent who becomes available takes the queue by priority plus aging, then first come first served', async () => {
      await scripted({ aging: { pointsPerMinute: 0, maxBoost: 0 } });
      const low = await contact('q-low', 'assisted 55');
      const high = await contact('q-high', 'assisted 75');
      const mid = await contact('q-mid', 'assisted 75');
      expect([low.status, high.status, mid.status]).toEqual(['queued', 'queued', 'queued']);
      agent('taker', ['general']);
      await router.agentAvailable('taker');
      await until(async () => (await store.listSessions({ status: ['offered'] })).length === 2);
      const offered = (await store.listSessions({ status: ['offered'] })).map((x) => x.id).sort();
      expect(offered).toEqual([high.id, mid.id].sort());
      expect((await store.getSession(low.id))?.status).toBe('queued');
    });

    it('reads the queue once when it is shorter than a page, and also by priority when the first page is full', async () => {
      await scripted({ aging: { pointsPerMinute: 0, maxBoost: 0 } });
      const low = await contact('p-low', 'assisted 55');
      const high = await contact('p-high', 'assisted 75');
      const list = store.listSessions.bind(store);
      const reads: (string | undefined)[] = [];
      let fullFirstPage = false;
      store.listSessions = async (filter) => {
        if (filter.status?.includes('queued') && filter.limit === 250) {
          reads.push(filter.order);
          // A full first page (the oldest contact 250 times: one contact once de-duplicated) hides the rest.
          if (fullFirstPage && filter.order !== 'priority') return Array.from({ length: 250 }, () => low);
        }
        return list(filter);
      };
      config = { ...config, capacity: { ...config.capacity, chat: 1 } };
      agent('first', ['general']);
      await router.agentAvailable('first');
      expect(reads).toEqual([undefined]);
      await until(async () => (await store.getSession(high.id))?.status === 'offered');

      reads.length = 0;
      fullFirstPage = true;
      const next = await contact('p-next', 'assisted 75');
      expect(next.status).toBe('queued');
      agent('second', ['general']);
      await router.agentAvailable('second');
      expect(reads).toEqual([undefined, 'priority']);
      // Found on the priority page only: offered before the older, lower contact of the first page.
      await until(async () => (await store.getSession(next.id))?.offeredAgentId === 'second');
      expect((await store.getSession(low.id))?.status).toBe('queued');
    });

    it('lets an old low-priority contact go first once aging has lifted it', async () => {
      await scripted({ aging: { pointsPerMinute: 60_000, maxBoost: 100 } }); // a point per ms: 20 ms outranks 20 points
      const old = await contact('a-old', 'assisted 55');
      await new Promise((r) => setTimeout(r, 60));
      const fresh = await contact('a-new', 'assisted 75');
      config = { ...config, capacity: { ...config.capacity, chat: 1 } };
      agent('taker', ['general']);
      await router.agentAvailable('taker');
      await until(async () => (await store.getSession(old.id))?.status === 'offered');
      expect((await store.getSession(fresh.id))?.status).toBe('queued');
      expect((await store.getSession(old.id))?.routing?.effectivePriority).toBeGreaterThan(75);
    });

    it('widens an expert contact from high proficiency to anyone when its ring opens, and says so', async () => {
      await scripted({
        widening: {
          ...DEFAULT_ROUTING_CONFIG.widening,
          expert: [
            { afterSeconds: 0, minProficiency: 4, addSkillGroups: [], addFallback: false },
            { afterSeconds: 1, minProficiency: 1, addSkillGroups: [], addFallback: false },
          ],
        },
      });
      agent('novice', ['general']);
      const s = await contact('w-1', 'expert 90');
      expect(s.status).toBe('queued');
      expect(await store.routingCandidates!(s.id)).toMatchObject([{ agentId: 'novice', codes: ['below-ring-proficiency'] }]);
      await until(async () => (await store.getSession(s.id))?.offeredAgentId === 'novice', 5000);
      const widened = (await store.getSession(s.id))!.routing!;
      expect(widened).toMatchObject({ trigger: 'widened', ring: { index: 1, minProficiency: 1 }, offeredTo: 'novice' });
    });

    it('reaches the fallback skill group, and an agent there who becomes available takes it', async () => {
      await scripted({
        skillGroups: { vip: { fallback: 'general', proficiency: {} } },
        widening: {
          ...DEFAULT_ROUTING_CONFIG.widening,
          assisted: [
            { afterSeconds: 0, minProficiency: 1, addSkillGroups: [], addFallback: false },
            { afterSeconds: 1, minProficiency: 1, addSkillGroups: [], addFallback: true },
          ],
        },
      });
      const s = await contact('f-1', 'assisted 60', 'vip');
      expect(s.status).toBe('queued');
      await new Promise((r) => setTimeout(r, 1100));
      agent('generalist', ['general']);
      await router.agentAvailable('generalist');
      await until(async () => (await store.getSession(s.id))?.offeredAgentId === 'generalist');
      expect((await store.getSession(s.id))?.routing?.ring?.skillGroups).toEqual(['vip', 'general']);
    });

    it('raises a waiting contact when a new message is harder, and never lowers it', async () => {
      await scripted({});
      const s = await contact('r-1', 'assisted 55', 'nobody-here');
      expect(s.routing).toMatchObject({ priority: 55, tier: 'assisted' });
      await ingest.accept(draft({ identity: { channel: 'WB', externalId: 'r-1' }, text: 'assisted 10' }), 'nobody-here');
      await ingest.accept(draft({ identity: { channel: 'WB', externalId: 'r-1' }, text: 'expert 100' }), 'nobody-here');
      await until(async () => (await store.getSession(s.id))?.routing?.trigger === 'rescored');
      const after = (await store.getSession(s.id))!.routing!;
      // 55 × 0.6 + 100 × 0.4 = 73: assisted still; the calmer message changed nothing.
      expect(after).toMatchObject({ difficultyScore: 100, priority: 73, tier: 'assisted' });
      expect(after.reasons.filter((r) => r.factor === 'rescored')).toHaveLength(1);
      expect((await store.decisions(s.id)).map((d) => d.decision.trigger)).toEqual(['new', 'rescored']);
    });

    it('records a decline, offers the contact to the next agent at once, and refuses a decline of an offer not yours', async () => {
      await scripted({});
      agent('d-first', ['general'], false, 0);
      agent('d-second', ['general'], false, 1);
      const s = await contact('dec-1', 'assisted 60');
      expect(s.offeredAgentId).toBe('d-first');
      await expect(router.declined(s.id, 'd-second')).rejects.toMatchObject({ code: 'OFFER_TAKEN' });
      await router.declined(s.id, 'd-first', 'on a call with a customer');
      const after = (await store.getSession(s.id))!;
      expect(after.offeredAgentId).toBe('d-second');
      expect(after.routing).toMatchObject({ trigger: 'declined' });
      expect(after.routing?.reasons.at(-1)).toMatchObject({ factor: 'declined', note: 'declined by d-first: on a call with a customer' });
      expect((await store.routingCandidates!(s.id))?.find((c) => c.agentId === 'd-first')).toMatchObject({ codes: ['declined-recently'] });
      expect((await store.decisions(s.id)).map((d) => [d.decision.trigger, d.decision.offeredTo])).toEqual([
        ['new', 'd-first'],
        ['declined', 'd-second'],
      ]);
    });
  });
});
