// @vitest-environment jsdom
import { act } from 'react';
import { createRoot, type Root } from 'react-dom/client';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { SessionSummary } from '../../../../common/api/sessions';
import { offlineBridge } from '../test-support/bridge';
import type { AgentConnection } from '../api/agent-socket';
import { clockWatchers } from '../clock';
import { StoreContext } from '../context';
import { createI18n } from '../locale';
import { LocaleProvider } from '../LocaleProvider';
import { createWorkstationStore, type WorkstationStore } from '../stores/workstation';
import { QueueList } from './QueueList';

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

/**
 * Issue 15: a queue of many waiting contacts stays cheap to keep on screen. Which rows rendered is read
 * from what they translated: every row translates its priority (`queue.priority`, `{ value }`), and
 * each row here has its own priority, so the values translated during a step name the rows rendered.
 */
const ROWS = 50;
const T0 = Date.parse('2026-12-01T06:00:00Z');

const row = (i: number, over: Partial<SessionSummary> = {}): SessionSummary => {
  const since = new Date(T0 - (30 + i) * 1000).toISOString();
  return {
    id: `WB${i}`,
    conversationId: `c-${i}`,
    customerId: `cust-${i}`,
    customerName: `Customer ${i}`,
    channel: 'WB',
    status: 'queued',
    skillGroup: 'general',
    assignedAgentId: null,
    offeredAgentId: null,
    tier: 'assisted',
    priority: 100 + i,
    lastMessagePreview: `preview ${i}`,
    lastMessageAt: since,
    createdAt: since,
    waitingSince: since,
    ...over,
  };
};

function workstation(): WorkstationStore {
  const bridge = offlineBridge();
  const store = createWorkstationStore({
    api: { login: () => Promise.reject(new Error('not used')), logout: async () => undefined },
    bridge,
    connect: () =>
      ({
        socket: { on: () => undefined },
        request: () => new Promise(() => undefined),
        close: () => undefined,
      }) as unknown as AgentConnection,
    storage: { getItem: () => null, setItem: () => undefined, removeItem: () => undefined },
  });
  store.setState({
    token: 't',
    user: { id: 'u1', username: 'agent1', displayName: 'Agent One', roles: ['agent'], skillGroups: ['general'], expert: false },
    queue: Object.fromEntries(Array.from({ length: ROWS }, (_, i) => [`WB${i}`, row(i)])),
    queueFilter: 'waiting',
  });
  return store;
}

describe('the queue list with many waiting contacts (issue 15)', () => {
  let root: Root | null = null;
  let host: HTMLDivElement;
  let store: WorkstationStore;
  /** Priorities translated (= rows rendered) since the last `rendered()`. */
  let translated: number[] = [];
  let keysTranslated = 0;
  let numberFormatsBuilt = 0;
  const RealNumberFormat = Intl.NumberFormat;

  beforeEach(async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'Date'], now: T0 });
    Intl.NumberFormat = new Proxy(RealNumberFormat, {
      construct(target, args: ConstructorParameters<typeof Intl.NumberFormat>) {
        numberFormatsBuilt++;
        return new target(...args);
      },
    });
    const i18n = createI18n('en');
    const t = i18n.t.bind(i18n);
    (i18n as { t: unknown }).t = (key: string | string[], options?: { value?: unknown }) => {
      keysTranslated++;
      if (key === 'queue.priority' || (Array.isArray(key) && key.includes('queue.priority'))) translated.push(Number(options?.value));
      return (t as (k: unknown, o: unknown) => string)(key, options);
    };
    host = document.createElement('div');
    document.body.append(host);
    root = createRoot(host);
    store = workstation();
    await act(async () => {
      root!.render(
        <LocaleProvider i18n={i18n}>
          <StoreContext.Provider value={store}>
            <QueueList />
          </StoreContext.Provider>
        </LocaleProvider>,
      );
    });
  });
  afterEach(() => {
    act(() => root?.unmount());
    root = null;
    host.remove();
    Intl.NumberFormat = RealNumberFormat;
    vi.useRealTimers();
  });

  /** The rows rendered since the last call, by priority - 100 (their index). */
  const rendered = () => {
    const rows = [...new Set(translated.map((p) => p - 100))].sort((a, b) => a - b);
    translated = [];
    keysTranslated = 0;
    numberFormatsBuilt = 0;
    return rows;
  };
  const wait = (i: number) => host.querySelector(`[data-testid="queue-item"][data-session-id="WB${i}"] .qitem__wait`)?.textContent;

  it('renders every row once, highest priority first', () => {
    expect(host.querySelectorAll('[data-testid="queue-item"]')).toHaveLength(ROWS);
    expect(host.querySelector('[data-testid="queue-item"]')?.getAttribute('data-session-id')).toBe(`WB${ROWS - 1}`);
    expect(rendered()).toHaveLength(ROWS);
  });

  it('a clock tick updates the wait clocks without rendering a row again, translating anything or building a formatter', async () => {
    rendered();
    expect(wait(0)).toBe('30s');
    await act(async () => vi.advanceTimersByTime(3000));
    expect(wait(0)).toBe('33s');
    expect(wait(7)).toBe('40s');
    expect(rendered()).toEqual([]);
    expect(keysTranslated).toBe(0);
    expect(numberFormatsBuilt).toBe(0);
  });

  it('an update to one contact renders that row only', async () => {
    rendered();
    await act(async () => store.getState().upsertQueueItem(row(7, { lastMessagePreview: 'a new message' })));
    expect(host.querySelector('[data-session-id="WB7"] .qitem__preview')?.textContent).toBe('a new message');
    expect(rendered()).toEqual([7]);
    // Unread counts and the open chat: the rows they concern.
    await act(async () => store.setState({ unread: { WB3: 2 } }));
    expect(rendered()).toEqual([3]);
    await act(async () => store.setState({ openSessionId: 'WB5' }));
    expect(rendered()).toEqual([5]);
    // Store changes that are not the queue's (a typing flag) render no row.
    await act(async () => store.setState({ customerTyping: { WB9: true } }));
    expect(rendered()).toEqual([]);
  });

  it('one shared clock for the whole list, stopped when the list goes', () => {
    expect(clockWatchers()).toBeGreaterThanOrEqual(ROWS);
    // Not a timer per row: the clock's one (and the transfers' own).
    const timers = vi.getTimerCount();
    expect(timers).toBeLessThan(5);
    act(() => root?.unmount());
    root = null;
    expect(clockWatchers()).toBe(0);
    expect(vi.getTimerCount()).toBeLessThan(timers);
  });
});
