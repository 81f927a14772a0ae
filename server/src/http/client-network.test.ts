import { describe, expect, it } from 'vitest';
import { clientNetwork } from './client-network';

describe('clientNetwork (one "same client" rule for every limit)', () => {
  it('folds an IPv4-mapped address to IPv4 in every spelling', () => {
    for (const spelling of [
      '::ffff:10.4.4.5',
      '::FFFF:10.4.4.5',
      '::ffff:a04:405',
      '0:0:0:0:0:ffff:10.4.4.5',
      '0:0:0:0:0:ffff:0a04:0405',
    ]) {
      expect(clientNetwork(spelling)).toBe('10.4.4.5');
    }
  });

  it('takes other IPv6 addresses as their /64 and leaves IPv4 alone', () => {
    expect(clientNetwork('2001:db8:1:2::1')).toBe(clientNetwork('2001:0db8:0001:0002:ffff:ffff:ffff:fffe'));
    expect(clientNetwork('2001:db8:1:2::1')).not.toBe(clientNetwork('2001:db8:1:3::1'));
    expect(clientNetwork('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
    expect(clientNetwork('::1')).toBe('0:0:0:0::/64');
    expect(clientNetwork('::10.4.4.5')).toBe('0:0:0:0::/64'); // IPv4-compatible (deprecated) is not mapped
    expect(clientNetwork('203.0.113.7')).toBe('203.0.113.7');
  });
});
