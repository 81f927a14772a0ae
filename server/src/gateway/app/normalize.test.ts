import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createLocalKeyProvider } from '../../keys/provider.local';
import { createSqliteChannelStore } from '../channels.sqlite';
import { appExternalId } from './normalize';

describe('app customer identities (B7: unambiguous keys)', () => {
  it('cannot make app "shop:a" + user "b" collide with app "shop" + user "a:b"', async () => {
    expect(appExternalId('shop', 'a:b')).toBe('shop:a:b');
    expect(() => appExternalId('shop:a', 'b')).toThrow(/separator/);
    const dir = mkdtempSync(join(tmpdir(), 'huiliu-appid-'));
    const keys = createLocalKeyProvider(join(dir, 'keys'));
    const channels = createSqliteChannelStore({ path: ':memory:', keys });
    try {
      await expect(channels.addAccount({ key: 'k-1', channel: 'AP', accountId: 'shop:a', name: 'x', skillGroup: null })).rejects.toThrow(
        /appId/,
      );
      await expect(
        channels.addAccount({ key: 'k-2', channel: 'AP', accountId: 'shop', name: 'x', skillGroup: null }),
      ).resolves.toMatchObject({
        accountId: 'shop',
      });
    } finally {
      await channels.close();
      await keys.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
