import { describe, expect, it } from 'vitest';
import { AuthService } from '../../auth/auth';
import { openDatabase } from '../../db/sqlite';
import { appExternalId } from './normalize';

describe('app customer identities (B7: unambiguous keys)', () => {
  it('cannot make app "shop:a" + user "b" collide with app "shop" + user "a:b"', () => {
    expect(appExternalId('shop', 'a:b')).toBe('shop:a:b');
    expect(() => appExternalId('shop:a', 'b')).toThrow(/separator/);
    const auth = new AuthService(openDatabase(':memory:'));
    expect(() => auth.addChannelKey('k-1', { channel: 'AP', appId: 'shop:a', name: 'x', skillGroup: null })).toThrow(/appId/);
    expect(() => auth.addChannelKey('k-2', { channel: 'AP', appId: 'shop', name: 'x', skillGroup: null })).not.toThrow();
  });
});
