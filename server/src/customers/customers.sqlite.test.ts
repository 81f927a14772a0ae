import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import type { ChannelIdentity, InboundDraft } from '../../../common/message/envelope';
import { createLocalKeyProvider } from '../keys/provider.local';
import { createSqliteSessionStore } from '../sessions/store.sqlite';
import { customerContract } from './customers.contract';
import { createSqliteCustomerStore } from './customers.sqlite';

customerContract('SQLite (embedded)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'huiliu-customers-'));
  const keys = createLocalKeyProvider(join(dir, 'keys'));
  // Two connections on one file: two server processes sharing the embedded store.
  const store = await createSqliteCustomerStore({ path: join(dir, 'huiliu.db'), keys });
  const other = await createSqliteCustomerStore({ path: join(dir, 'huiliu.db'), keys });
  return {
    store,
    other,
    async cleanup() {
      await store.shutdown();
      await other.shutdown();
      await keys.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

describe('SQLite customers port: rows interchangeable with the wide SessionStore', () => {
  it('reads customers, identities and links the wide store wrote, and the wide store reads the port’s', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'huiliu-customers-wide-'));
    const keys = createLocalKeyProvider(join(dir, 'keys'));
    const wide = await createSqliteSessionStore({ path: join(dir, 'huiliu.db'), keys, writer: 'inline' });
    const port = await createSqliteCustomerStore({ path: join(dir, 'huiliu.db'), keys });
    try {
      // Written by the wide store, read through the port.
      const { customerId: a } = await wide.saveContactDetails(
        { channel: 'WX', externalId: 'wx-openid-1', displayName: 'Wang Fang', links: [{ kind: 'email', value: 'wang@example.com' }] },
        'WX',
      );
      await wide.saveContactDetails({ channel: 'WX', externalId: 'wx-openid-1', displayName: 'Wang Fang 2' }, 'WX');
      expect((await port.findCustomerByIdentity('WX', 'wx-openid-1'))!).toMatchObject({ id: a, name: 'Wang Fang 2', channels: ['WX'] });
      expect((await port.findCustomerByLink('email', 'WANG@example.com'))!.id).toBe(a);
      expect((await port.profileChanges(a)).map((c) => c.value)).toEqual(['Wang Fang 2']);
      expect(await port.ensureCustomers([{ channel: 'WX', externalId: 'wx-openid-1' }])).toEqual([{ customerId: a, created: false }]);
      // Written by the port, read by the wide store.
      const { customerId: b } = await port.saveContactDetails(
        { channel: 'AP', externalId: 'app:u-9', displayName: 'Zhao Lei', phone: '13700000000' },
        'AP',
      );
      await port.linkIdentity(b, { kind: 'phone', value: '+86 137 1111 2222' }, 'agent:a1');
      expect(await wide.getCustomer(b)).toMatchObject({ id: b, name: 'Zhao Lei', channels: ['AP'], groupId: b });
      expect((await wide.findCustomerByIdentity('AP', 'app:u-9'))!.id).toBe(b);
      expect((await wide.findCustomerByLink('phone', '+8613711112222'))!.id).toBe(b);
      expect((await wide.customerIdentities(b)).identities.map((i) => i.externalId)).toEqual(['app:u-9']);
      expect(await wide.ensureCustomers([{ channel: 'AP', externalId: 'app:u-9' }])).toEqual([{ customerId: b, created: false }]);
    } finally {
      await port.shutdown();
      await wide.shutdown();
      await keys.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('records the customer a port decided (InboundOptions.customerId): the port’s SQLite adapter reads the same rows', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'huiliu-customers-decided-'));
    const keys = createLocalKeyProvider(join(dir, 'keys'));
    const path = join(dir, 'huiliu.db');
    const wide = await createSqliteSessionStore({ path, keys, writer: 'inline' });
    const port = await createSqliteCustomerStore({ path, keys });
    let n = 0;
    const draft = (identity: ChannelIdentity): InboundDraft => {
      const t = new Date().toISOString();
      return {
        identity,
        content: { kind: 'text', body: { text: 'hi' } },
        critical: true,
        clientMessageId: `d-${++n}`,
        sentAt: t,
        receivedAt: t,
        meta: {},
      };
    };
    try {
      // A first message whose customer another node's port decided: this file records that id.
      const decided = '0190f3a0-0000-7000-8000-00000000d001';
      const first = await wide.admitInbound!(draft({ channel: 'WX', externalId: 'wx-decided-1', displayName: 'Li Na' }), {
        skillGroup: 'general',
        customerId: decided,
      });
      expect(first.session.customerId).toBe(decided);
      expect(first.newSession).toBe(true);
      expect(await port.findCustomerByIdentity('WX', 'wx-decided-1')).toMatchObject({ id: decided, name: 'Li Na', channels: ['WX'] });
      // The same identity again, with or without the decided id: the same customer and session.
      const again = await wide.admitInbound!(draft({ channel: 'WX', externalId: 'wx-decided-1' }), { skillGroup: 'general' });
      expect(again.session.id).toBe(first.session.id);
      const stored = await wide.appendInbound(draft({ channel: 'WX', externalId: 'wx-decided-1' }), {
        skillGroup: 'general',
        customerId: decided,
      });
      expect(stored.envelope.customerId).toBe(decided);

      // An identity this file holds under another customer moves to the one the port decided.
      const local = (await wide.ensureCustomers([{ channel: 'WB', externalId: 'wb-moved' }]))[0]!.customerId;
      const other = '0190f3a0-0000-7000-8000-00000000d002';
      const moved = await wide.admitInbound!(draft({ channel: 'WB', externalId: 'wb-moved' }), {
        skillGroup: 'general',
        customerId: other,
      });
      expect(moved.session.customerId).toBe(other);
      expect(local).not.toBe(other);
      expect((await port.findCustomerByIdentity('WB', 'wb-moved'))!.id).toBe(other);
      expect((await port.customerIdentities(local)).identities).toEqual([]);
      expect((await port.customerIdentities(other)).identities.map((i) => i.externalId)).toEqual(['wb-moved']);

      // ensureCustomers and saveContactDetails take decided ids too; `created` says whether this file's row is new.
      const third = '0190f3a0-0000-7000-8000-00000000d003';
      expect(
        await wide.ensureCustomers(
          [
            { channel: 'AP', externalId: 'app:decided' },
            { channel: 'WX', externalId: 'wx-decided-1' },
          ],
          { customerIds: [third, decided] },
        ),
      ).toEqual([
        { customerId: third, created: true },
        { customerId: decided, created: false },
      ]);
      await expect(wide.ensureCustomers([{ channel: 'AP', externalId: 'x' }], { customerIds: [] })).rejects.toMatchObject({
        code: 'VALIDATION_FAILED',
      });
      expect(
        await wide.saveContactDetails({ channel: 'AP', externalId: 'app:decided', displayName: 'Zhou Min' }, 'AP', { customerId: third }),
      ).toEqual({
        customerId: third,
        created: false,
      });
      expect((await port.getCustomer(third))!.name).toBe('Zhou Min');

      // A customer this file erased is never given a new key here.
      await port.eraseCustomers([third]);
      await expect(
        wide.admitInbound!(draft({ channel: 'AP', externalId: 'app:decided' }), { skillGroup: 'general', customerId: third }),
      ).rejects.toMatchObject({ code: 'CUSTOMER_ERASED' });

      // The rows are the ones the writer writes itself: one customer row per id, group = itself.
      const db = new Database(path, { readonly: true });
      try {
        const rows = db.prepare('SELECT id, group_id FROM customers WHERE id IN (?, ?, ?) ORDER BY id').all(decided, other, third);
        expect(rows).toEqual([
          { id: decided, group_id: decided },
          { id: other, group_id: other },
          { id: third, group_id: third },
        ]);
      } finally {
        db.close();
      }
    } finally {
      await port.shutdown();
      await wide.shutdown();
      await keys.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
