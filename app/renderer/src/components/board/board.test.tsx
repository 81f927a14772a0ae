// @vitest-environment jsdom
import { act } from 'react';
import { createRoot, type Root } from 'react-dom/client';
import { afterEach, describe, expect, it } from 'vitest';
import type { BoardGroup, BoardSnapshot } from '../../../../../common/api/board';
import { HuiliuError } from '../../../../../common/errors/codes';
import type { AgentConnection } from '../../api/agent-socket';
import { LocaleProvider } from '../../LocaleProvider';
import type { Locale } from '../../locale';
import { createBoardStore, type BoardStore } from '../../stores/board';
import { BoardView } from './BoardPage';

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

const rules = { thresholds: { voice: 20, chat: 60 }, slaWarnShare: 0.8, silenceSeconds: 120 };
const ago = (s: number) => new Date(Date.now() - s * 1000).toISOString();

function group(skillGroup: string, at: string, waitingSeconds: number[]): BoardGroup {
  return {
    skillGroup,
    at,
    waiting: {
      total: waitingSeconds.length,
      byTier: { expert: 0, assisted: waitingSeconds.length, ai: 0, unrouted: 0 },
      byChannel: { WB: waitingSeconds.length },
      longestSince: waitingSeconds.length ? ago(Math.max(...waitingSeconds)) : null,
    },
    withAi: 0,
    active: 0,
    agents: { byPresence: { available: 1 }, list: [{ id: 'a1', name: 'Agent One', presence: 'available', activeChats: 1, capacity: 3 }] },
    serviceLevel: {
      target: 0.8,
      last15m: { rate: 0.5, answeredWithin: 1, answered: 1, abandonedAfter: 1 },
      today: { rate: 0.75, answeredWithin: 3, answered: 4, abandonedAfter: 0 },
    },
    abandonment: { today: { rate: 0.2, abandoned: 1, queued: 5 } },
    contacts: waitingSeconds.map((s, i) => ({
      sessionId: `WB${skillGroup}${i}`,
      skillGroup,
      customerName: `Customer ${i}`,
      channel: 'WB',
      status: 'queued',
      tier: 'assisted',
      waitingSince: ago(s),
      since: ago(s),
      assignedAgentId: null,
      assignedAgentName: null,
      unansweredSince: ago(s),
      emotion: null,
      sla: null,
      trouble: [],
    })),
    contactsTotal: waitingSeconds.length,
  };
}

/** A socket that records listeners and the events asked, answering `board:subscribe` with `answer`. */
function fakeConnection(answer: () => Promise<BoardSnapshot>) {
  const listeners = new Map<string, Set<(...a: unknown[]) => void>>();
  const asked: string[] = [];
  const socket = {
    connected: true,
    on(event: string, fn: (...a: unknown[]) => void) {
      (listeners.get(event) ?? listeners.set(event, new Set()).get(event)!).add(fn);
    },
    off(event: string, fn: (...a: unknown[]) => void) {
      listeners.get(event)?.delete(fn);
    },
  };
  const connection = {
    socket,
    async request(event: string) {
      asked.push(event);
      if (event === 'board:subscribe') return answer();
      return { unsubscribed: true };
    },
    close() {},
  } as unknown as AgentConnection;
  const push = (snapshot: BoardSnapshot) => listeners.get('board:update')?.forEach((fn) => fn(snapshot));
  return { connection, asked, push, listening: () => listeners.get('board:update')?.size ?? 0 };
}

describe('the live board view (issue 16)', () => {
  let root: Root | null = null;
  let host: HTMLElement | null = null;
  afterEach(() => {
    act(() => root?.unmount());
    host?.remove();
  });

  async function show(store: BoardStore, locale: Locale, onSupervise?: (id: string) => void) {
    host = document.createElement('div');
    document.body.append(host);
    root = createRoot(host);
    await act(async () => {
      store.getState().start();
      root!.render(
        <LocaleProvider locale={locale}>
          <BoardView store={store} {...(onSupervise ? { onSupervise } : {})} />
        </LocaleProvider>,
      );
    });
    await act(async () => new Promise((r) => setTimeout(r, 0)));
  }
  const q = (sel: string) => host!.querySelector(sel);
  const qa = (sel: string) => [...host!.querySelectorAll(sel)];

  it('shows the subscribed groups, highlights trouble with its reason, and keeps only newer pushes', async () => {
    const first = ago(1);
    const fake = fakeConnection(async () => ({ rules, groups: [group('general', first, [10, 55])] }));
    const store = createBoardStore(fake.connection);
    await show(store, 'en');
    expect(q('[data-testid="board"]')!.getAttribute('data-status')).toBe('live');
    expect(q('[data-testid="waiting-general"]')!.textContent).toBe('2');
    const rows = qa('[data-testid="board-contact"]');
    expect(rows.map((r) => r.getAttribute('data-trouble'))).toEqual(['', 'sla-risk']);
    expect(rows[1]!.className).toContain('board-row--trouble');
    expect(rows[1]!.textContent).toContain('About to breach the SLA');
    expect(q('[data-testid="board-group-general"]')!.textContent).toContain('50 %');
    // A newer push replaces the group; an older one (overtaken) is ignored.
    act(() => fake.push({ rules, groups: [group('general', new Date().toISOString(), [10, 55, 3])] }));
    expect(q('[data-testid="waiting-general"]')!.textContent).toBe('3');
    act(() => fake.push({ rules, groups: [group('general', ago(30), [])] }));
    expect(q('[data-testid="waiting-general"]')!.textContent).toBe('3');
    act(() => store.getState().stop());
    expect(fake.listening()).toBe(0);
    expect(fake.asked).toEqual(['board:subscribe', 'board:unsubscribe']);
  });

  it('follows a contact’s SLA clock: shows the due countdown (en, zh) and flags from the clock, not the threshold', async () => {
    const g = group('general', ago(0), [300, 5]);
    // Waiting 300 s (past the 60 s threshold) but its first-response clock has 200 s of 600 left: no flag.
    g.contacts[0]!.sla = { kind: 'first', dueAt: new Date(Date.now() + 200_000).toISOString(), breached: false, targetSeconds: 600 };
    // Waiting 5 s, its next-response clock breached (the tracker said so).
    g.contacts[1]!.sla = { kind: 'next', dueAt: ago(10), breached: true, targetSeconds: 120 };
    const fake = fakeConnection(async () => ({ rules, groups: [g] }));
    await show(createBoardStore(fake.connection), 'en');
    const rows = qa('[data-testid="board-contact"]');
    expect(rows.map((r) => r.getAttribute('data-trouble'))).toEqual(['', 'sla-breached']);
    const sla = qa('[data-testid="board-sla"]').map((e) => e.textContent);
    expect(sla[0]).toMatch(/^First response · 3:(19|20) left$/);
    expect(sla[1]).toMatch(/^Next response · 0:1\d overdue$/);
    act(() => root?.unmount());
    host?.remove();
    await show(createBoardStore(fakeConnection(async () => ({ rules, groups: [g] })).connection), 'zh');
    expect(q('[data-testid="board-sla"]')!.textContent).toMatch(/^首次响应 · 剩余 3:(19|20)$/);
    expect(q('[data-testid="board-contact"]:nth-child(2)')!.textContent).toContain('已违反 SLA');
  });

  it('gives each contact a Supervise button that calls the onSupervise hook with its session', async () => {
    const fake = fakeConnection(async () => ({ rules, groups: [group('vip', ago(0), [5])] }));
    const supervised: string[] = [];
    await show(createBoardStore(fake.connection), 'zh', (id) => supervised.push(id));
    const button = q('[data-testid="board-supervise"]') as HTMLButtonElement;
    expect(button.textContent).toBe('监看');
    act(() => button.click());
    expect(supervised).toEqual(['WBvip0']);
    expect(q('[data-testid="board-agents"]')!.textContent).toContain('1/3');
  });

  it('says why when the server refuses the board', async () => {
    const fake = fakeConnection(async () => {
      throw new HuiliuError('FORBIDDEN', 'no');
    });
    await show(createBoardStore(fake.connection), 'zh');
    expect(q('[data-testid="board-error"]')!.textContent).toBe('只有组长和管理员可以打开实时看板。');
    expect(qa('[data-testid="board-contact"]')).toHaveLength(0);
  });
});
