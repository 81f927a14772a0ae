import { describe, expect, it } from 'vitest';
import { WORKSTATION_CSP, workstationCsp } from '../src/workstation/plugin';

describe('workstation CSP with the voice edge (issue 18)', () => {
  it('lets the softphone connect to the edge’s ws/wss URIs and to nothing else', () => {
    expect(workstationCsp()).toBe(WORKSTATION_CSP);
    const csp = workstationCsp([
      'sip:127.0.0.1:5060',
      'ws://127.0.0.1:8088',
      'wss://edge.example.com:4443/',
      "ws://x; script-src 'unsafe-inline'",
    ]);
    expect(csp).toContain("connect-src 'self' ws://127.0.0.1:8088 wss://edge.example.com:4443;");
    expect(csp).not.toContain('sip:');
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).toContain("script-src 'self'");
  });
});
