// @vitest-environment jsdom
import { act } from 'react';
import { createRoot } from 'react-dom/client';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { SessionDetail, SessionSummary } from '../../../../../common/api/sessions';
import { offlineBridge } from '../../test-support/bridge';
import type { AgentConnection } from '../../api/agent-socket';
import { StoreContext } from '../../context';
import { LocaleProvider } from '../../LocaleProvider';
import { createSoftphoneStore, type SoftphoneStore } from '../../stores/softphone';
import { createWorkstationStore } from '../../stores/workstation';
import type { PhoneCall, PhoneSnapshot, SipPhone } from './sip-phone';
import { Softphone } from './Softphone';

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

const at = new Date().toISOString();
const me = { id: 'u1', username: 'agent1', displayName: 'Agent One', roles: ['agent' as const], skillGroups: ['general'], expert: false };
const row = (id: string, over: Partial<SessionSummary> = {}): SessionSummary =>
  ({
    id,
    conversationId: `c-${id}`,
    customerId: `cust-${id}`,
    customerName: 'Li Lei',
    channel: id.slice(0, 2),
    status: 'active',
    skillGroup: 'general',
    assignedAgentId: 'u1',
    offeredAgentId: null,
    tier: 'assisted',
    priority: 60,
    lastMessagePreview: '',
    lastMessageAt: at,
    createdAt: at,
    waitingSince: at,
    wrapUpCode: null,
    closedAt: null,
    ...over,
  }) as SessionSummary;
const call = (): PhoneCall => ({
  sessionId: 'SP1',
  caller: 'customer',
  state: 'active',
  muted: false,
  held: false,
  answeredAt: Date.now(),
  dtmf: '',
  endReason: null,
  transfer: null,
  consult: null,
  videoOffered: false,
  video: false,
});

/**
 * The softphone dock with a fake SIP phone (it records `sessionClosed`) inside a real workstation store,
 * the agent's call up on SP1 while another conversation (WB2) is open; `fetch` answers the session's
 * status as `status` (the server's `GET /api/v1/sessions/:id`).
 */
async function render(status: number | number[], body: unknown) {
  const statuses = Array.isArray(status) ? [...status] : [status];
  const closed: string[] = [];
  let emit: (s: PhoneSnapshot) => void = () => undefined;
  const phone = {
    start: async () => emit({ registration: 'registered', aor: 'sip:agent1@huiliu', call: call(), error: null }),
    stop: () => undefined,
    sessionClosed: (id: string) => void closed.push(id),
  } as unknown as SipPhone;
  const softphone: SoftphoneStore = createSoftphoneStore({
    makePhone: (_token, e) => {
      emit = e;
      return phone;
    },
  });
  const asked: string[] = [];
  vi.stubGlobal(
    'fetch',
    vi.fn(async (url: string) => {
      asked.push(url);
      if (url.startsWith('/api/v1/sessions/'))
        return new Response(JSON.stringify(body), { status: statuses.length > 1 ? statuses.shift()! : statuses[0]! });
      return new Response('{}', { status: 404 });
    }),
  );
  const connection = {
    socket: { on: () => undefined },
    request: () => new Promise(() => undefined),
    close: () => undefined,
  } as unknown as AgentConnection;
  const bridge = offlineBridge();
  const store = createWorkstationStore({
    api: { login: () => Promise.reject(new Error('not used')), logout: async () => undefined },
    bridge,
    connect: () => connection,
    storage: { getItem: () => null, setItem: () => undefined, removeItem: () => undefined },
  });
  const open = { ...row('WB2', { channel: 'WB' }), messages: [], hasOlderMessages: false, routing: null } as unknown as SessionDetail;
  store.setState({
    token: 't',
    user: me,
    connection,
    queue: { SP1: row('SP1'), WB2: row('WB2') },
    openSessionId: 'WB2',
    detail: open,
    // The call's contact is not the open one: nothing opens it again for this test.
    openSession: async () => undefined,
  });
  const host = document.createElement('div');
  document.body.append(host);
  const root = createRoot(host);
  await act(async () => {
    root.render(
      <LocaleProvider locale="en">
        <StoreContext.Provider value={store}>
          <Softphone store={softphone} />
        </StoreContext.Provider>
      </LocaleProvider>,
    );
  });
  await vi.waitFor(() => expect(softphone.getState().call?.state).toBe('active'));
  return { store, closed, asked, root, host };
}

describe('the softphone learns a closed call from the agent’s list when another conversation is open', () => {
  let done: (() => void) | null = null;
  afterEach(() => {
    done?.();
    done = null;
    vi.unstubAllGlobals();
  });

  it('hangs up when the call’s row leaves the list and the server says the session is closed', async () => {
    const h = await render(200, { id: 'SP1', status: 'closed' });
    done = () => (act(() => h.root.unmount()), h.host.remove());
    expect(h.closed).toEqual([]);
    await act(async () => h.store.getState().removeQueueItem('SP1'));
    await vi.waitFor(() => expect(h.closed).toEqual(['SP1']));
    expect(h.asked).toContain('/api/v1/sessions/SP1');
  });

  it('keeps the call when the row left because the call was transferred (the session is still open), or the server does not show it', async () => {
    const moved = await render(200, { id: 'SP1', status: 'offered' });
    done = () => (act(() => moved.root.unmount()), moved.host.remove());
    await act(async () => moved.store.getState().removeQueueItem('SP1'));
    await vi.waitFor(() => expect(moved.asked).toContain('/api/v1/sessions/SP1'));
    await act(async () => new Promise((r) => setTimeout(r, 50)));
    expect(moved.closed).toEqual([]);
    done();

    const hidden = await render(404, { error: { code: 'SESSION_NOT_FOUND' } });
    done = () => (act(() => hidden.root.unmount()), hidden.host.remove());
    await act(async () => hidden.store.getState().removeQueueItem('SP1'));
    await vi.waitFor(() => expect(hidden.asked).toContain('/api/v1/sessions/SP1'));
    await act(async () => new Promise((r) => setTimeout(r, 50)));
    expect(hidden.closed).toEqual([]);
  });

  it('asks when the agent leaves the call’s contact after its row left while it was shown (before its re-read)', async () => {
    const h = await render(200, { id: 'SP1', status: 'closed' });
    done = () => (act(() => h.root.unmount()), h.host.remove());
    const shown = h.store.getState().detail!;
    const call = {
      ...row('SP1'),
      messages: [],
      hasOlderMessages: false,
      routing: null,
      context: { customer: { name: 'Li Lei' }, previousSessions: [] },
    } as unknown as SessionDetail;
    await act(async () => h.store.setState({ openSessionId: 'SP1', detail: call }));
    // The row leaves while the call's contact is shown (its re-read comes 250 ms later) ...
    await act(async () => h.store.getState().removeQueueItem('SP1'));
    // ... and the agent goes back to the other conversation first: the re-read is skipped.
    await act(async () => h.store.setState({ openSessionId: 'WB2', detail: shown }));
    await vi.waitFor(() => expect(h.closed).toEqual(['SP1']));
    expect(h.asked).toContain('/api/v1/sessions/SP1');
  });

  it('asks again after no usable answer (a 503 while the server restarts) and hangs up when the session is closed', async () => {
    const h = await render([503, 200], { id: 'SP1', status: 'closed' });
    done = () => (act(() => h.root.unmount()), h.host.remove());
    await act(async () => h.store.getState().removeQueueItem('SP1'));
    await vi.waitFor(() => expect(h.closed).toEqual(['SP1']), { timeout: 4000 });
    expect(h.asked.filter((u) => u === '/api/v1/sessions/SP1')).toHaveLength(2);
  });

  it('asks nothing while the call’s row stays listed (another row leaving is not its sign)', async () => {
    const h = await render(200, { id: 'SP1', status: 'closed' });
    done = () => (act(() => h.root.unmount()), h.host.remove());
    await act(async () => h.store.getState().removeQueueItem('WB2'));
    await act(async () => new Promise((r) => setTimeout(r, 50)));
    expect(h.asked.filter((u) => u.startsWith('/api/v1/sessions/'))).toEqual([]);
    expect(h.closed).toEqual([]);
  });
});
