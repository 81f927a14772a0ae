// @vitest-environment jsdom
import { act } from 'react';
import { createRoot, type Root } from 'react-dom/client';
import { afterEach, describe, expect, it } from 'vitest';
import type { ConversationSummary } from '../../../../common/ai/assist';
import type { MessageView, SessionDetail } from '../../../../common/api/sessions';
import type { TransferView } from '../../../../common/api/transfers';
import { takeoverNote } from '../../../../common/api/collision';
import { transferNoteText } from './Transfer';
import { offlineBridge } from '../test-support/bridge';
import type { TransferTargets } from '../../../../common/socket/agent-events';
import type { AgentConnection } from '../api/agent-socket';
import { App } from '../App';
import { StoreContext } from '../context';
import { LocaleProvider } from '../LocaleProvider';
import type { Locale } from '../locale';
import { createWorkstationStore } from '../stores/workstation';

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;
Element.prototype.scrollTo ??= () => undefined;

const at = new Date().toISOString();
const later = new Date(Date.now() + 20_000).toISOString();
const me = { id: 'u1', username: 'agent1', displayName: 'Agent One', roles: ['agent' as const], skillGroups: ['general'], expert: false };
const msg = (seq: number, over: Partial<MessageView>): MessageView =>
  ({
    id: `m-${seq}`,
    sessionId: 'WB1',
    conversationId: 'c-1',
    seq,
    direction: 'in',
    channel: 'WB',
    authorId: null,
    author: 'customer',
    sentAt: at,
    receivedAt: at,
    kind: 'text',
    body: { text: 'I was charged twice' },
    ...over,
  }) as MessageView;
const detail = (over: Partial<SessionDetail> = {}): SessionDetail =>
  ({
    id: 'WB1',
    conversationId: 'c-1',
    customerId: 'cust-1',
    customerName: 'Li Lei',
    channel: 'WB',
    status: 'active',
    skillGroup: 'general',
    assignedAgentId: 'u1',
    offeredAgentId: null,
    tier: 'assisted',
    priority: 60,
    lastMessagePreview: 'I was charged twice',
    lastMessageAt: at,
    createdAt: at,
    waitingSince: at,
    wrapUpCode: null,
    closedAt: null,
    routing: null,
    messages: [msg(1, {})],
    hasOlderMessages: false,
    context: { customer: { id: 'cust-1', name: 'Li Lei', channels: ['WB'] }, previousSessions: [] },
    ...over,
  }) as SessionDetail;
const SUMMARY: ConversationSummary = {
  intent: 'refund',
  wants: 'I was charged twice',
  done: 'nothing yet',
  lines: ['Intent: refund', 'Customer wants: I was charged twice'],
  by: 'extractive',
  at,
};
const TARGETS: TransferTargets = {
  agents: [
    { id: 'u3', name: 'Agent Three', skillGroups: ['general'], presence: 'busy', activeChats: 2, sharesGroup: true, expert: false },
    { id: 'u2', name: 'Agent Two', skillGroups: ['vip'], presence: 'available', activeChats: 0, sharesGroup: false, expert: true },
  ],
  skillGroups: [
    { id: 'general', name: 'General' },
    { id: 'vip', name: 'VIP' },
  ],
};
const view = (over: Partial<TransferView> = {}): TransferView => ({
  id: '01900000-0000-7000-8000-0000000000aa',
  sessionId: 'WB1',
  mode: 'warm',
  status: 'pending',
  from: { id: 'u1', name: 'Agent One' },
  target: { kind: 'agent', agentId: 'u2' },
  targetLabel: 'Agent Two',
  offeredTo: { id: 'u2', name: 'Agent Two' },
  skillGroup: 'vip',
  note: 'Double charge',
  summary: SUMMARY,
  declineReason: null,
  createdAt: at,
  expiresAt: later,
  decidedAt: null,
  decidedBy: null,
  ...over,
});

describe('transfers in the workstation', () => {
  let root: Root;
  let host: HTMLDivElement;
  let requests: { event: string; payload: Record<string, unknown> }[];
  let store: ReturnType<typeof createWorkstationStore>;

  async function render(options: { user?: typeof me; open?: SessionDetail | null; locale?: Locale; answers?: Record<string, unknown> }) {
    const bridge = offlineBridge();
    requests = [];
    const request = async (event: string, payload: Record<string, unknown>): Promise<unknown> => {
      requests.push({ event, payload });
      if (options.answers && event in options.answers) return options.answers[event];
      if (event === 'transfer:targets') return TARGETS;
      return new Promise(() => undefined);
    };
    const connection = { socket: { on: () => undefined }, request, close: () => undefined } as unknown as AgentConnection;
    store = createWorkstationStore({
      api: { login: () => Promise.reject(new Error('not used')), logout: async () => undefined },
      bridge,
      connect: () => connection,
      storage: { getItem: () => null, setItem: () => undefined, removeItem: () => undefined },
    });
    const open = options.open === undefined ? detail() : options.open;
    store.setState({
      token: 't',
      user: options.user ?? me,
      connection,
      queue: open ? { [open.id]: open } : {},
      queueFilter: 'mine',
      openSessionId: open?.id ?? null,
      detail: open,
    });
    host = document.createElement('div');
    document.body.append(host);
    root = createRoot(host);
    await act(async () => {
      root.render(
        <LocaleProvider locale={options.locale ?? 'en'}>
          <StoreContext.Provider value={store}>
            <App />
          </StoreContext.Provider>
        </LocaleProvider>,
      );
    });
  }
  afterEach(() => {
    act(() => root.unmount());
    host.remove();
  });

  const $ = (testId: string) => host.querySelector<HTMLElement>(`[data-testid="${testId}"]`);
  const click = async (el: Element | null) => act(async () => (el as HTMLElement).click());
  const change = async (el: HTMLSelectElement | HTMLTextAreaElement | HTMLInputElement | null, value: string) =>
    act(async () => {
      const proto =
        el instanceof HTMLSelectElement ? HTMLSelectElement : el instanceof HTMLTextAreaElement ? HTMLTextAreaElement : HTMLInputElement;
      Object.getOwnPropertyDescriptor(proto.prototype, 'value')!.set!.call(el, value);
      el!.dispatchEvent(new Event(el instanceof HTMLSelectElement ? 'change' : 'input', { bubbles: true }));
    });

  it('sends a warm transfer from the dialog, shows it pending with Cancel, and closes the chat once accepted', async () => {
    await render({ answers: { 'session:transfer': view() } });
    await click($('transfer-button'));
    expect(requests.find((r) => r.event === 'transfer:targets')?.payload).toEqual({ sessionId: 'WB1' });
    const agents = [...host.querySelectorAll('[data-testid="transfer-agent"] option')].map((o) => o.textContent);
    // Own group first, then the other groups; the first available colleague is preselected.
    expect(agents).toEqual(['Agent Three · busy · 2 chats · General', 'Agent Two ★ · available · 0 chats · VIP']);
    expect(host.querySelector<HTMLSelectElement>('[data-testid="transfer-agent"]')?.value).toBe('u2');
    await change(host.querySelector('[data-testid="transfer-note"]'), '  Double charge  ');
    await click($('transfer-send'));
    expect(requests.find((r) => r.event === 'session:transfer')?.payload).toEqual({
      sessionId: 'WB1',
      to: { kind: 'agent', agentId: 'u2' },
      mode: 'warm',
      note: 'Double charge',
    });
    expect($('transfer-dialog')).toBeNull();
    expect($('transfer-pending')?.textContent).toContain('Waiting for Agent Two to accept your transfer');
    expect($('transfer-button')).toBeNull();

    await act(async () => store.getState().receiveTransferUpdate(view({ status: 'accepted', decidedBy: 'u2' })));
    expect(store.getState().detail).toBeNull();
    expect(store.getState().queue['WB1']).toBeUndefined();
    expect($('transfer-notice')?.textContent).toContain('Agent Two accepted your transfer');
  });

  it('closes the dialog with Esc from any field, sending nothing', async () => {
    await render({ answers: {} });
    await click($('transfer-button'));
    const field = host.querySelector<HTMLElement>('[data-testid="transfer-dialog"] input, [data-testid="transfer-dialog"] select')!;
    await act(async () => {
      field.dispatchEvent(new KeyboardEvent('keydown', { key: 'Escape', bubbles: true }));
    });
    expect($('transfer-dialog')).toBeNull();
    expect(requests.filter((r) => r.event === 'session:transfer')).toEqual([]);
  });

  it('transfers cold to the expert tier of a group: the chat leaves at once', async () => {
    await render({
      answers: {
        'session:transfer': view({
          mode: 'cold',
          status: 'routed',
          offeredTo: null,
          target: { kind: 'expert', skillGroup: 'vip' },
          targetLabel: 'VIP',
        }),
      },
    });
    await click($('transfer-button'));
    await click(host.querySelector('input[name="transfer-kind"][value="expert"]'));
    const group = host.querySelector<HTMLSelectElement>('[data-testid="transfer-group"]')!;
    expect([...group.options].map((o) => o.textContent)).toEqual(['Experts of General', 'Experts of VIP']);
    await change(group, 'vip');
    await click(host.querySelector('input[name="transfer-mode"][value="cold"]'));
    await click($('transfer-send'));
    expect(requests.find((r) => r.event === 'session:transfer')?.payload).toEqual({
      sessionId: 'WB1',
      to: { kind: 'expert', skillGroup: 'vip' },
      mode: 'cold',
    });
    expect(store.getState().detail).toBeNull();
    expect($('transfer-notice')?.textContent).toContain('Transferred to VIP');
  });

  it('tells the sender when the colleague declines, and the chat stays theirs', async () => {
    await render({ open: detail({ transfer: view() }) });
    expect($('transfer-pending')).not.toBeNull();
    await act(async () => store.getState().receiveTransferUpdate(view({ status: 'declined', declineReason: 'On a call' })));
    expect($('transfer-pending')).toBeNull();
    expect($('transfer-notice')?.textContent).toContain('Agent Two declined your transfer: On a call');
    expect(store.getState().detail?.id).toBe('WB1');
    expect($('transfer-button')).not.toBeNull();
  });

  it('shows the receiver an incoming card with the note and AI summary; Accept opens the conversation with the transfer on top', async () => {
    const agent2 = { ...me, id: 'u2', displayName: 'Agent Two', skillGroups: ['vip'] };
    const accepted = detail({
      skillGroup: 'vip',
      assignedAgentId: 'u2',
      transfer: view({ status: 'accepted' }),
      messages: [
        msg(1, {}),
        msg(2, {
          direction: 'out',
          author: 'system',
          kind: 'event',
          body: {
            name: 'staff.transfer',
            data: {
              transferId: view().id,
              mode: 'warm',
              status: 'accepted',
              from: { id: 'u1', name: 'Agent One' },
              targetLabel: 'Agent Two',
              to: { id: 'u2', name: 'Agent Two' },
              skillGroup: 'vip',
            },
          },
        } as Partial<MessageView>),
      ],
    });
    await render({ user: agent2, open: null, answers: { 'transfer:accept': accepted } });
    await act(async () => store.getState().receiveTransferOffer({ transfer: view(), session: detail() }));
    const card = $('incoming-transfer')!;
    expect(card.textContent).toContain('Li Lei');
    expect(card.textContent).toContain('from Agent One');
    expect(card.textContent).toContain('Double charge');
    expect(card.textContent).toContain('Customer wants: I was charged twice');
    await click($('transfer-accept'));
    expect(requests.find((r) => r.event === 'transfer:accept')?.payload).toEqual({ transferId: view().id });
    expect($('incoming-transfer')).toBeNull();
    expect($('transfer-card')?.textContent).toContain('Transferred from Agent One (warm)');
    expect($('transfer-card')?.textContent).toContain('Double charge');
    expect($('transfer-record')?.textContent).toContain('Agent One transferred this conversation to Agent Two (warm)');
  });

  it('words a take-over’s transfer note and the AI summary in the desk’s language, and keeps a sender’s own note as written', async () => {
    const agent2 = { ...me, id: 'u2', displayName: 'Agent Two', skillGroups: ['vip'] };
    await render({ user: agent2, open: null, locale: 'zh' });
    const facts = { aiAnswers: 0, aiIntents: [], handover: null, agentReplies: 0, orders: [], tracking: [] };
    await act(async () =>
      store.getState().receiveTransferOffer({
        transfer: view({
          note: takeoverNote('Agent Three'),
          summary: { ...SUMMARY, lines: [...SUMMARY.lines, 'Done: nothing yet'], facts },
        }),
        session: detail(),
      }),
    );
    const card = $('incoming-transfer')!;
    expect(card.textContent).toContain('Agent Three 申请了接管');
    expect(card.textContent).not.toContain('Take-over asked by');
    // The AI summary too is worded in Chinese from its facts; the customer's words stay as said.
    expect(card.textContent).toContain('客户诉求：I was charged twice');
    expect(card.textContent).toContain('已处理：尚未处理');
    expect(card.textContent).not.toContain('Customer wants');
    const t = ((key: string, o: { name: string }) => `${key}:${o.name}`) as unknown as Parameters<typeof transferNoteText>[1];
    expect(transferNoteText('Double charge', t)).toBe('“Double charge”');
    expect(transferNoteText(takeoverNote('Agent Three'), t)).toBe('takeoverNote:Agent Three');
  });

  it('credits the lead on a reassign record (en, zh)', async () => {
    const reassigned = (id: string) =>
      msg(3, {
        id,
        direction: 'out',
        author: 'system',
        kind: 'event',
        body: {
          name: 'staff.transfer',
          data: {
            transferId: view().id,
            mode: 'cold',
            status: 'routed',
            from: { id: 'u1', name: 'Agent One' },
            targetLabel: 'Agent Two',
            to: null,
            skillGroup: 'general',
            by: { id: 'lead', name: 'Team Lead' },
          },
        },
      } as Partial<MessageView>);
    await render({ open: detail({ messages: [msg(1, {}), reassigned('m-r1')] }) });
    expect($('transfer-record')?.textContent).toContain('Team Lead reassigned this conversation from Agent One to Agent Two');
    expect($('transfer-record')?.textContent).not.toContain('transferred');
    act(() => root.unmount());
    host.remove();
    await render({ locale: 'zh', open: detail({ messages: [msg(1, {}), reassigned('m-r2')] }) });
    expect($('transfer-record')?.textContent).toContain('Team Lead 将此会话从 Agent One 改派给 Agent Two');
  });

  it('declines with a reason', async () => {
    const agent2 = { ...me, id: 'u2', displayName: 'Agent Two', skillGroups: ['vip'] };
    await render({ user: agent2, open: null, answers: { 'transfer:decline': view({ status: 'declined' }) } });
    await act(async () => store.getState().receiveTransferOffer({ transfer: view(), session: detail() }));
    await click($('transfer-decline'));
    await change(host.querySelector('input[aria-label="Reason (optional)"]'), 'On a call');
    await click([...host.querySelectorAll('.incoming-transfer button')].find((b) => b.textContent === 'Decline')!);
    expect(requests.find((r) => r.event === 'transfer:decline')?.payload).toEqual({ transferId: view().id, reason: 'On a call' });
    expect($('incoming-transfer')).toBeNull();
  });

  it('speaks Chinese to a Chinese-speaking agent', async () => {
    await render({ locale: 'zh', open: detail({ transfer: view() }) });
    expect($('transfer-pending')?.textContent).toContain('等待 Agent Two 接受转接');
    expect($('transfer-pending')?.textContent).toContain('取消转接');
    await act(async () =>
      store.getState().receiveTransferOffer({ transfer: view({ id: '01900000-0000-7000-8000-0000000000bb' }), session: detail() }),
    );
    expect($('incoming-transfer')?.textContent).toContain('转接请求');
    expect($('incoming-transfer')?.textContent).toContain('接受');
  });
});
