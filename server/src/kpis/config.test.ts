import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../config/config';
import { kpiEvent } from './events';
import { kpiReport } from './plugin';

const dir = mkdtempSync(join(tmpdir(), 'huiliu-kpi-cfg-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const withFile = (text: string) => {
  const path = join(dir, `c${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(path, text);
  return loadConfig({ env: { HUILIU_CONFIG: path }, argv: [], cwd: dir });
};

describe('the service level is configurable (HUILIU_CONFIG `kpis.serviceLevel`)', () => {
  it('defaults to 20 s voice, 60 s chat, 80 %, and takes what the file sets', () => {
    expect(loadConfig({ env: {}, argv: [], cwd: dir }).kpis).toEqual({
      serviceLevel: { voiceSeconds: 20, chatSeconds: 60, target: 0.8 },
      board: { slaWarnShare: 0.8, silenceSeconds: 120 },
    });
    expect(withFile('kpis:\n  serviceLevel: {chatSeconds: 30, target: 0.9}\n').kpis.serviceLevel).toEqual({
      voiceSeconds: 20,
      chatSeconds: 30,
      target: 0.9,
    });
    expect(() => withFile('kpis:\n  serviceLevel: {chatSeconds: -1}\n')).toThrow(/kpis\.serviceLevel\.chatSeconds/);
  });

  it('counts a chat answered after 45 s within a 60 s threshold, not within a 30 s one', () => {
    const T0 = Date.parse('2026-03-02T09:00:00Z');
    const d = { sessionId: 'S-1', customerId: 'c', skillGroup: 'general', channel: 'WB' as const };
    const log = {
      read: () => [kpiEvent({ id: 'a', kind: 'contact.answered', at: T0 + 45_000, ...d, agentId: 'a1', data: { waitMs: 45_000 } })],
    };
    const admin = { id: 'u', roles: ['admin' as const], skillGroups: [] };
    const query = { from: new Date(T0).toISOString(), to: new Date(T0 + 3_600_000).toISOString() };
    const at = (chat: number) =>
      kpiReport(admin, query, { log, now: () => T0 + 86_400_000, serviceLevel: { thresholds: { voice: 20, chat }, target: 0.8 } }).kpis
        .serviceLevel;
    expect(at(60)).toMatchObject({ rate: 1, thresholds: { chat: 60 } });
    expect(at(30)).toMatchObject({ rate: 0, thresholds: { chat: 30 } });
  });
});
