import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';
import { describe, expect, it } from 'vitest';
import { hashEntry, type AuditEntry } from './audit';

/** The hash the chain has always used: SHA-256 over `canonicalize` (RFC 8785) of the body. */
function reference(e: Omit<AuditEntry, 'hash' | 'mac'>): string {
  const body = {
    at: e.at,
    actor: e.actor.name === undefined ? { kind: e.actor.kind, id: e.actor.id } : e.actor,
    action: e.action,
    target: e.target,
    outcome: e.outcome,
    detail: e.detail,
    ip: e.ip,
    prevHash: e.prevHash,
  };
  return createHash('sha256').update(canonicalize(body)!).digest('hex');
}

const base: Omit<AuditEntry, 'hash' | 'mac'> = {
  seq: 1,
  at: '2026-11-30T09:15:02.114Z',
  actor: { kind: 'staff', id: '0193a0b0-0000-7000-8000-000000000001', name: 'agent1' },
  action: 'session.view',
  target: { kind: 'session', id: 'WB17000000000012345' },
  outcome: 'ok',
  detail: { via: 'socket' },
  ip: '10.0.0.7',
  prevHash: '0'.repeat(64),
};

describe('the hashed body', () => {
  it('hashes exactly as RFC 8785 canonicalize does, for every shape an entry takes', () => {
    const odd = 'é "quoted" \\ back\u2028line\u0000nul 汉字\t\n';
    const variants: Omit<AuditEntry, 'hash' | 'mac'>[] = [
      base,
      { ...base, actor: { kind: 'ai', id: 'ai' }, target: null, ip: null, detail: {} },
      { ...base, actor: { kind: 'staff', id: odd, name: odd }, action: odd, target: { kind: odd, id: odd }, ip: odd },
      { ...base, actor: { kind: 'staff', id: 'x', name: 'Zoë 😀' }, detail: { 'k😀': '😀' } },
      {
        ...base,
        detail: {
          z: 1,
          a: -0,
          é: 1e21,
          E: 1.5e-7,
          ä: true,
          '10': null,
          '9': 'nine',
          'B😀': 0.1 + 0.2,
          b: Number.MAX_SAFE_INTEGER,
          [odd]: odd,
        },
      },
    ];
    for (const v of variants) expect(hashEntry(v)).toBe(reference(v));
  });

  it('still refuses what RFC 8785 cannot encode (a lone surrogate, NaN), as before', () => {
    expect(() => hashEntry({ ...base, action: 'a\ud800' })).toThrow();
    expect(() => hashEntry({ ...base, detail: { n: Number.NaN } })).toThrow();
  });
});
