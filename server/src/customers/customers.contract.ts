import { randomUUID } from 'node:crypto';
import { v7 as uuidv7 } from 'uuid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { placeholderName } from '../../../common/message/placeholder-names';
import type { CustomerIdentity } from '../sessions/store';
import type { CustomerStore } from './customers';

/** What a contract run needs from an adapter: a store, a second instance on the same data (another node), cleanup. */
export interface CustomerHarness {
  store: CustomerStore;
  /** Another store instance (another process / server node) on the same backend, prefix and KEK. */
  other: CustomerStore;
  cleanup(): Promise<void>;
}

/** A unique external id (so runs and cases never share an identity). */
const ext = (label = 'u') => `${label}-${randomUUID()}`;
/** A unique, valid phone number / e-mail address. */
const phone = () => `+86 139 ${String(Math.floor(Math.random() * 1e8)).padStart(8, '0')}`;
const email = () => `li.na+${randomUUID().slice(0, 8)}@example.com`;
/** The customer of one identity (created when new). */
const customerOf = async (store: CustomerStore, identity: CustomerIdentity) => (await store.ensureCustomers([identity]))[0]!.customerId;

/**
 * The customers port's contract (customers.ts), run against every adapter: SQLite
 * (customers.sqlite.test.ts) and Redis Cluster (customers.redis-cluster.test.ts).
 */
export function customerContract(name: string, open: () => Promise<CustomerHarness>): void {
  describe(`CustomerStore contract: ${name}`, () => {
    let h: CustomerHarness;
    beforeAll(async () => {
      h = await open();
    }, 60_000);
    afterAll(async () => {
      await h?.cleanup();
    });

    it('creates a customer for a new identity once, with a placeholder name unless one is given', async () => {
      const a = { channel: 'WX' as const, externalId: ext('wx') };
      const b = { channel: 'WB' as const, externalId: ext('wb'), displayName: '欧阳娜娜' };
      const [ra, rb, again] = await h.store.ensureCustomers([a, b, a]);
      expect(ra).toMatchObject({ created: true });
      expect(rb).toMatchObject({ created: true });
      // The same identity twice in one list: one customer, created once.
      expect(again).toEqual({ customerId: ra!.customerId, created: false });
      expect(await h.store.ensureCustomers([a])).toEqual([{ customerId: ra!.customerId, created: false }]);
      const customer = await h.store.getCustomer(ra!.customerId);
      expect(customer).toMatchObject({ id: ra!.customerId, name: placeholderName('WX'), channels: ['WX'], mergedInto: null });
      expect(customer!.groupId).toBe(ra!.customerId);
      expect(Date.parse(customer!.createdAt)).toBeGreaterThan(0);
      expect((await h.store.getCustomer(rb!.customerId))!.name).toBe('欧阳娜娜');
      expect(await h.store.getCustomer(uuidv7())).toBeNull();
    });

    it('finds a customer by channel identity, and only on that channel', async () => {
      const externalId = ext('same-id');
      const customerId = await customerOf(h.store, { channel: 'AP', externalId });
      expect((await h.store.findCustomerByIdentity('AP', externalId))!.id).toBe(customerId);
      expect(await h.other.findCustomerByIdentity('AP', externalId)).toMatchObject({ id: customerId });
      expect(await h.store.findCustomerByIdentity('WB', externalId)).toBeNull();
      expect(await h.store.findCustomerByIdentity('AP', `${externalId}x`)).toBeNull();
    });

    it('gives two nodes ensuring the same identity at the same time ONE customer, created exactly once', async () => {
      for (let round = 0; round < 5; round++) {
        const identity = { channel: 'WX' as const, externalId: ext('race') };
        const results = (
          await Promise.all([
            h.store.ensureCustomers([identity]),
            h.other.ensureCustomers([identity]),
            h.store.ensureCustomers([identity]),
            h.other.ensureCustomers([identity]),
          ])
        ).flat();
        expect(new Set(results.map((r) => r.customerId)).size).toBe(1);
        expect(results.filter((r) => r.created)).toHaveLength(1);
        expect((await h.other.findCustomerByIdentity('WX', identity.externalId))!.id).toBe(results[0]!.customerId);
      }
    });

    it('keeps contact details the customer typed: later values win and every change is kept, sealed', async () => {
      const identity = { channel: 'WB' as const, externalId: ext('prechat') };
      const first = await h.store.saveContactDetails({ ...identity, displayName: 'Li Na', phone: '13900000001' }, 'WB');
      expect(first.created).toBe(true);
      expect((await h.store.getCustomer(first.customerId))!.name).toBe('Li Na');
      // The same details again change nothing; new ones replace them and the change is recorded.
      expect(await h.other.saveContactDetails({ ...identity, displayName: 'Li Na', phone: '13900000001' }, 'WB')).toEqual({
        customerId: first.customerId,
        created: false,
      });
      expect(await h.store.profileChanges(first.customerId)).toEqual([]);
      await h.other.saveContactDetails({ ...identity, displayName: 'Li Na (Nana)', phone: '13900000002' }, 'WB');
      expect((await h.store.getCustomer(first.customerId))!.name).toBe('Li Na (Nana)');
      const changes = await h.store.profileChanges(first.customerId);
      expect(changes.map(({ field, channel, previous, value }) => ({ field, channel, previous, value }))).toEqual([
        { field: 'name', channel: 'WB', previous: 'Li Na', value: 'Li Na (Nana)' },
        { field: 'phone', channel: 'WB', previous: '13900000001', value: '13900000002' },
      ]);
      // A phone on an identity that had none: the change has no previous value.
      const bare = { channel: 'AP' as const, externalId: ext('bare') };
      const { customerId } = await h.store.saveContactDetails(bare, 'AP');
      await h.store.saveContactDetails({ ...bare, phone: '13900000003' }, 'AP');
      expect((await h.store.profileChanges(customerId)).map((c) => [c.field, c.previous, c.value])).toEqual([
        ['phone', null, '13900000003'],
      ]);
    });

    it('keeps one unbroken history when two nodes change the name and phone at the same time', async () => {
      const identity = { channel: 'WB' as const, externalId: ext('both') };
      const { customerId } = await h.store.saveContactDetails({ ...identity, displayName: 'start', phone: '13900000100' }, 'WB');
      for (let round = 0; round < 4; round++) {
        await Promise.all([
          h.store.saveContactDetails({ ...identity, displayName: `a${round}`, phone: `1390000${round}201` }, 'WB'),
          h.other.saveContactDetails({ ...identity, displayName: `b${round}`, phone: `1390000${round}202` }, 'WB'),
        ]);
      }
      const changes = await h.store.profileChanges(customerId);
      for (const field of ['name', 'phone'] as const) {
        const chain = changes.filter((c) => c.field === field);
        // Every change starts from the value the one before it set: no write was lost between two nodes.
        expect(chain[0]!.previous).toBe(field === 'name' ? 'start' : '13900000100');
        for (let i = 1; i < chain.length; i++) expect(chain[i]!.previous).toBe(chain[i - 1]!.value);
        expect(chain.length).toBeGreaterThanOrEqual(4);
      }
      const names = changes.filter((c) => c.field === 'name');
      expect((await h.other.getCustomer(customerId))!.name).toBe(names[names.length - 1]!.value);
    });

    it('records typed links untrusted when nobody holds them, never takes them from a holder, skips invalid ones', async () => {
      const mail = email();
      const a = await h.store.saveContactDetails(
        {
          channel: 'WB',
          externalId: ext('a'),
          links: [
            { kind: 'email', value: mail.toUpperCase() },
            { kind: 'phone', value: 'not a phone' },
          ],
        },
        'WB',
      );
      expect((await h.store.findCustomerByLink('email', mail))!.id).toBe(a.customerId);
      const b = await h.other.saveContactDetails({ channel: 'WB', externalId: ext('b'), links: [{ kind: 'email', value: mail }] }, 'WB');
      expect((await h.store.findCustomerByLink('email', ` ${mail} `))!.id).toBe(a.customerId);
      expect((await h.store.customerIdentities(b.customerId)).links).toEqual([]);
      const mine = await h.store.customerIdentities(a.customerId);
      expect(mine.links).toEqual([{ customerId: a.customerId, kind: 'email', value: mail, source: 'WB', createdAt: expect.any(String) }]);
    });

    it('links a verified phone / e-mail by blind index and finds the customer by it in any accepted form', async () => {
      const externalId = ext('link');
      const customerId = await customerOf(h.store, { channel: 'WX', externalId });
      const tel = phone();
      const normal = tel.replace(/\s/g, '');
      const view = await h.store.linkIdentity(customerId, { kind: 'phone', value: tel }, 'agent:a1');
      expect(view).toMatchObject({ customerId, kind: 'phone', value: normal, source: 'agent:a1' });
      expect((await h.other.findCustomerByLink('phone', normal))!.id).toBe(customerId);
      expect((await h.store.findCustomerByLink('phone', tel.replace('+86 ', '+86-')))!.id).toBe(customerId);
      expect(await h.store.findCustomerByLink('phone', '+8613000000000')).toBeNull();
      expect(await h.store.findCustomerByLink('phone', 'nonsense')).toBeNull();
      // Linking it again changes nothing.
      expect(await h.other.linkIdentity(customerId, { kind: 'phone', value: normal }, 'agent:a2')).toMatchObject({
        customerId,
        value: normal,
      });
      const mail = email();
      await h.store.linkIdentity(customerId, { kind: 'email', value: mail }, 'agent:a1');
      const { identities, links } = await h.other.customerIdentities(customerId);
      expect(identities).toEqual([{ customerId, channel: 'WX', externalId, createdAt: expect.any(String) }]);
      expect(links.map((l) => [l.kind, l.value, l.source])).toEqual([
        ['phone', normal, 'agent:a1'],
        ['email', mail, 'agent:a1'],
      ]);
    });

    it('refuses a verified link another customer holds (LINK_CONFLICT naming them), but takes an untrusted one over', async () => {
      const holder = await customerOf(h.store, { channel: 'WB', externalId: ext('holder') });
      const taker = await customerOf(h.store, { channel: 'WB', externalId: ext('taker') });
      const tel = phone();
      await h.store.linkIdentity(holder, { kind: 'phone', value: tel }, 'agent:a1');
      await expect(h.other.linkIdentity(taker, { kind: 'phone', value: tel }, 'agent:a2')).rejects.toMatchObject({
        code: 'LINK_CONFLICT',
        details: { customerId: holder },
      });
      // Typed (untrusted) by one customer, verified by an agent for another: it is the other's now.
      const mail = email();
      await h.store.saveContactDetails({ channel: 'WB', externalId: ext('squatter'), links: [{ kind: 'email', value: mail }] }, 'WB');
      const squatter = (await h.store.findCustomerByLink('email', mail))!.id;
      expect(squatter).not.toBe(taker);
      await h.other.linkIdentity(taker, { kind: 'email', value: mail }, 'agent:a2');
      expect((await h.store.findCustomerByLink('email', mail))!.id).toBe(taker);
      expect((await h.store.customerIdentities(squatter)).links).toEqual([]);
      expect((await h.store.customerIdentities(taker)).links.map((l) => l.value)).toEqual([mail]);
      // Its own untrusted link, verified: still theirs, now trusted (another agent cannot take it).
      const own = email();
      const { customerId: self } = await h.store.saveContactDetails(
        { channel: 'AP', externalId: ext('self'), links: [{ kind: 'email', value: own }] },
        'AP',
      );
      await h.store.linkIdentity(self, { kind: 'email', value: own }, 'agent:a1');
      await expect(h.store.linkIdentity(taker, { kind: 'email', value: own }, 'agent:a2')).rejects.toMatchObject({ code: 'LINK_CONFLICT' });
    });

    it('answers VALIDATION_FAILED for an invalid link and NOT_FOUND for an unknown customer', async () => {
      const customerId = await customerOf(h.store, { channel: 'WB', externalId: ext('v') });
      await expect(h.store.linkIdentity(customerId, { kind: 'email', value: 'no-at-sign' }, 'agent:a1')).rejects.toMatchObject({
        code: 'VALIDATION_FAILED',
      });
      await expect(h.store.linkIdentity(uuidv7(), { kind: 'phone', value: phone() }, 'agent:a1')).rejects.toMatchObject({
        code: 'NOT_FOUND',
      });
    });

    it('erases a customer: profile unreadable (CUSTOMER_ERASED), not found by any identifier, the identity a new customer after', async () => {
      const identity = { channel: 'WX' as const, externalId: ext('erase'), displayName: 'To Be Erased', phone: '13900000009' };
      const { customerId } = await h.store.saveContactDetails(identity, 'WX');
      await h.store.saveContactDetails({ ...identity, displayName: 'Renamed' }, 'WX');
      const mail = email();
      await h.store.linkIdentity(customerId, { kind: 'email', value: mail }, 'agent:a1');
      const kept = await customerOf(h.store, { channel: 'WX', externalId: ext('kept'), displayName: 'Kept' });
      expect((await h.other.getCustomer(customerId))!.name).toBe('Renamed'); // the other node has the key cached now

      expect(await h.store.eraseCustomers([customerId])).toBe(1);
      expect(await h.store.eraseCustomers([customerId])).toBe(0);
      await expect(h.store.getCustomer(customerId)).rejects.toMatchObject({ code: 'CUSTOMER_ERASED' });
      await expect(h.store.profileChanges(customerId)).rejects.toMatchObject({ code: 'CUSTOMER_ERASED' });
      expect(await h.store.findCustomerByIdentity('WX', identity.externalId)).toBeNull();
      expect(await h.other.findCustomerByLink('email', mail)).toBeNull();
      expect(await h.store.customerIdentities(customerId)).toEqual({ identities: [], links: [] });
      // Another node that had the key cached drops it on `customer.erased` (Redis: forgetCustomers; SQLite: the shred epoch).
      (h.other as { forgetCustomers?: (ids: string[]) => number }).forgetCustomers?.([customerId]);
      await expect(h.other.getCustomer(customerId)).rejects.toMatchObject({ code: 'CUSTOMER_ERASED' });
      // The same person writing again is a new customer; the other customer is untouched.
      const [again] = await h.other.ensureCustomers([identity]);
      expect(again).toMatchObject({ created: true });
      expect(again!.customerId).not.toBe(customerId);
      expect((await h.store.getCustomer(kept))!.name).toBe('Kept');
    });
  });
}
