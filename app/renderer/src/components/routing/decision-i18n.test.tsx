// @vitest-environment jsdom
import { act } from 'react';
import { createRoot, type Root } from 'react-dom/client';
import { afterEach, describe, expect, it } from 'vitest';
import type { UserView } from '../../../../../common/api/auth';
import { offlineBridge } from '../../test-support/bridge';
import type { RoutingDecision } from '../../../../../common/routing/types';
import { StoreContext } from '../../context';
import { LocaleProvider } from '../../LocaleProvider';
import { StaffContext } from '../../staff';
import { createWorkstationStore } from '../../stores/workstation';
import { ContextPanel } from '../ContextPanel';
import { DecisionExplanation } from './DecisionExplanation';

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

// Issue 15: the routing explanation the server builds in English (score factors, each candidate's
// reasons, the offer) is shown from its codes in the agent's language.

const ME: UserView = { id: 'u-me', username: 'me', displayName: 'Wang Fang', roles: ['agent'], skillGroups: ['general'], expert: false };

/** A decision as the server now stores it: English notes plus codes and params. */
const DECISION: RoutingDecision = {
  valueScore: 30,
  difficultyScore: 52,
  priority: 38.8,
  tier: 'ai',
  configVersion: 2,
  weights: { value: 0.6, difficulty: 0.4 },
  thresholds: { expert: 80, assisted: 50 },
  skillGroup: 'general',
  reasons: [
    {
      factor: 'value.spend',
      value: 0.5,
      points: 20,
      note: 'spend 12000 on a log scale to 100000',
      code: 'value-spend',
      params: { spend: 12000, cap: 100000 },
    },
    { factor: 'value.satisfaction', value: 0.5, points: 10, note: 'no CSAT yet (neutral)', code: 'value-no-csat' },
    { factor: 'difficulty.length', value: 0.1, points: 2, note: '31 characters', code: 'difficulty-length', params: { count: 31 } },
    {
      factor: 'difficulty.negative-emotion',
      value: 1,
      points: 20,
      note: '1 negative cue(s); anger heard at intensity 0.8',
      code: 'difficulty-negative-heard',
      params: { count: 1, emotion: 'anger', intensity: 0.8 },
    },
    { factor: 'difficulty.model', note: 'surface features (no language model loaded)', code: 'model-surface' },
    {
      factor: 'tier',
      note: 'priority 38.8 = 30×0.6 + 52×0.4 → ai (expert > 80, assisted > 50)',
      code: 'tier',
      params: { priority: 38.8, value: 30, wValue: 0.6, difficulty: 52, wDifficulty: 0.4, tier: 'ai', expert: 80, assisted: 50 },
    },
    { factor: 'handover', note: 'AI tier not answering (not configured): handed to a person', code: 'ai-tier-off' },
  ],
  offeredTo: 'u-me',
  assignment: 'proficiency 4 in general; idle 125 s; 0/3 chats, 0/1 calls',
  assignmentDetails: [
    { code: 'proficiency-in', params: { proficiency: 4, group: 'general' } },
    { code: 'idle', params: { idleMs: 125_000 } },
    { code: 'load', params: { chat: 0, chatMax: 3, voice: 0, voiceMax: 1 } },
  ],
  decidedAt: '2026-11-30T10:00:00.000Z',
  candidates: [
    {
      agentId: 'u-me',
      chosen: true,
      reasons: ['proficiency 4 in general; idle 125 s; 0/3 chats, 0/1 calls'],
      details: [
        { code: 'proficiency-in', params: { proficiency: 4, group: 'general' } },
        { code: 'idle', params: { idleMs: 125_000 } },
        { code: 'load', params: { chat: 0, chatMax: 3, voice: 0, voiceMax: 1 } },
      ],
      codes: ['chosen'],
      proficiency: 4,
      skillGroup: 'general',
    },
    {
      agentId: 'u-full',
      chosen: false,
      reasons: ['at capacity: 3/3 chats'],
      details: [{ code: 'at-capacity-chats', params: { n: 3, max: 3 } }],
      codes: ['at-capacity'],
      proficiency: 4,
      skillGroup: 'general',
    },
    {
      agentId: 'u-slow',
      chosen: false,
      reasons: ['declined or missed this contact 40 s ago'],
      details: [{ code: 'declined-recently', params: { agoMs: 40_000 } }],
      codes: ['declined-recently'],
    },
    {
      agentId: 'u-new',
      chosen: false,
      reasons: ['a phrase from a newer server'],
      details: [{ code: 'from-the-future', params: { n: 1 } }],
      codes: ['lower-proficiency'],
    },
  ],
};

const bridge = offlineBridge();

let root: Root | null = null;
let host: HTMLDivElement;
afterEach(() => {
  act(() => root?.unmount());
  root = null;
  host?.remove();
});

async function mount(node: React.ReactNode) {
  host = document.createElement('div');
  document.body.append(host);
  root = createRoot(host);
  await act(async () => root!.render(node));
}

const texts = (sel: string) => [...host.querySelectorAll<HTMLElement>(sel)].map((e) => e.textContent ?? '');
/** Latin words left once the ids a person configured (skill group) and "AI" (also the Chinese tier name) are taken out. */
const latinWords = (s: string) => s.replace(/\b(general|AI)\b/g, '').match(/[A-Za-z]{2,}/g) ?? [];

describe('routing explanation phrases in the agent’s language', () => {
  it('shows a decision in the Chinese context panel with no English reason text', async () => {
    const store = createWorkstationStore({
      api: { login: () => Promise.reject(new Error('not used')), logout: async () => undefined },
      bridge,
      connect: () => {
        throw new Error('not used');
      },
      storage: { getItem: () => null, setItem: () => undefined, removeItem: () => undefined },
    });
    store.setState({ token: 't', user: ME });
    store.setState({
      detail: {
        id: 'AP1',
        routing: { ...DECISION, candidates: DECISION.candidates!.slice(0, 3) },
        context: { customer: { id: 'c1', name: 'Zhang Wei', channels: ['AP'] }, previousSessions: [] },
      } as never,
    });
    await mount(
      <LocaleProvider locale="zh">
        <StaffContext.Provider value={[]}>
          <StoreContext.Provider value={store}>
            <ContextPanel />
          </StoreContext.Provider>
        </StaffContext.Provider>
      </LocaleProvider>,
    );
    const why = texts('[data-testid="candidate-why"]');
    const notes = texts('[data-testid="decision-factor-note"]');
    const offer = texts('[data-testid="decision-assignment"]');
    expect(why).toHaveLength(3);
    expect(notes).toHaveLength(DECISION.reasons.length);
    for (const s of [...why, ...notes, ...offer]) expect(latinWords(s), s).toEqual([]);
    expect(why[0]).toBe('在 general 的熟练度 4；空闲 2分钟；会话 0/3，通话 0/1');
    expect(why[1]).toBe('已满：会话 3/3');
    expect(why[2]).toBe('40秒前拒绝或错过了此会话');
    expect(notes).toContain('消费 12,000，按对数刻度计至 100,000');
    expect(notes).toContain('1 处负面信号；语音中听到愤怒，强度 0.8');
    expect(notes).toContain('优先级 38.8 = 30 × 0.6 + 52 × 0.4 → AI（专家 > 80，辅助 > 50）');
    expect(offer[0]).toBe(why[0]);
    const factors = texts('[data-testid="decision-factor"]');
    for (const s of factors) expect(latinWords(s), s).toEqual([]);
    expect(factors.slice(0, 2)).toEqual(['消费', '满意度']);
  });

  it('reads naturally in English, and falls back to the server’s English for a code it does not know', async () => {
    await mount(
      <LocaleProvider locale="en">
        <DecisionExplanation decision={DECISION} staff={[]} self={ME} compact />
      </LocaleProvider>,
    );
    const why = texts('[data-testid="candidate-why"]');
    expect(why[0]).toBe('proficiency 4 in general; idle 2m; 0/3 chats, 0/1 calls');
    expect(why[1]).toBe('at capacity: 3/3 chats');
    expect(why[2]).toBe('declined or missed this contact 40s ago');
    expect(why[3]).toBe('a phrase from a newer server');
    const notes = texts('[data-testid="decision-factor-note"]');
    expect(notes).toContain('spend 12,000 on a log scale to 100,000');
    expect(notes).toContain('31 characters');
    expect(notes).toContain('1 negative cue; anger heard at intensity 0.8');
    expect(notes).toContain('AI tier not answering: handed to a person');
  });

  it('words the language core’s factors and a warm transfer in Chinese, with no English left (issue 15)', async () => {
    const core: RoutingDecision = {
      ...DECISION,
      reasons: [
        { factor: 'difficulty.base', points: 5, note: 'baseline', code: 'difficulty-base' },
        {
          factor: 'difficulty.out-of-scope',
          value: 1,
          points: 30,
          note: 'not in the knowledge base (best intent refund at 0.2)',
          code: 'core-out-of-scope',
          params: { intent: 'refund', confidence: 0.2 },
        },
        {
          factor: 'difficulty.ambiguity',
          points: 9.5,
          note: 'margin 0.05 between the two likeliest intents',
          code: 'core-ambiguity',
          params: { margin: 0.05 },
        },
        {
          factor: 'difficulty.issues',
          points: 7.5,
          note: '2 distinct question(s) (1 likely intent(s), 2 question mark(s) or joiners)',
          code: 'core-issues',
          params: { count: 2, intents: 1, questions: 2 },
        },
        { factor: 'difficulty.length', points: 1, note: '40 characters, 9 words', code: 'core-length', params: { count: 40, words: 9 } },
        { factor: 'difficulty.negation', points: 2, note: '1 negation(s)', code: 'core-negation', params: { count: 1 } },
        {
          factor: 'difficulty.negative-emotion',
          points: 22,
          note: 'anger at intensity 0.9',
          code: 'core-negative-emotion',
          params: { emotion: 'anger', intensity: 0.9 },
        },
        { factor: 'difficulty.wants-human', points: 40, note: 'asks for a person', code: 'core-wants-human' },
        { factor: 'difficulty.model', note: 'language core core-v2', code: 'model-core', params: { model: 'core-v2' } },
        {
          factor: 'transfer',
          note: 'warm transfer by Agent One to agent Agent Two (from general)',
          code: 'transfer-agent-moved',
          params: { mode: 'warm', from: 'Agent One', target: 'Agent Two', fromGroup: 'general' },
        },
      ],
      assignment: 'warm transfer to the agent named by the sender',
      assignmentDetails: [{ code: 'warm-transfer-named' }],
      transfer: { from: 'u-one', to: 'u-two', mode: 'warm' },
      candidates: [
        { agentId: 'u-me', chosen: true, reasons: ['named by the transfer'], details: [{ code: 'named-by-transfer' }], codes: ['chosen'] },
      ],
    };
    await mount(
      <LocaleProvider locale="zh">
        <DecisionExplanation decision={core} staff={[]} self={ME} compact />
      </LocaleProvider>,
    );
    // Ids a person configured or the KB names (a group, an intent, a model) and staff names stay as they are.
    const ids = (s: string) => latinWords(s.replace(/\b(refund|core-v2|core|v2|Agent One|Agent Two)\b/g, ''));
    const notes = texts('[data-testid="decision-factor-note"]');
    for (const n of notes) expect(ids(n), n).toEqual([]);
    expect(notes).toContain('不在知识库范围内（最接近的意图 refund，置信度 0.2）');
    expect(notes).toContain('2 个不同问题（1 个可能意图，2 个问号或连接词）');
    expect(notes).toContain('愤怒，强度 0.9');
    expect(notes).toContain('Agent One 咨询转接给坐席 Agent Two（原技能组 general）');
    for (const f of texts('[data-testid="decision-factor"]')) expect(latinWords(f), f).toEqual([]);
    expect(texts('[data-testid="decision-assignment"]')).toEqual(['咨询转接给转出人指定的坐席']);
    expect(texts('[data-testid="candidate-why"]')).toEqual(['转接时指定']);
    // The transfer row names both agents from the reason's params, not by their ids.
    expect(texts('[data-testid="decision-transfer"]')[0]).toContain('Agent One');
    expect(texts('[data-testid="decision-transfer"]')[0]).toContain('Agent Two');
    expect(texts('[data-testid="decision-transfer"]')[0]).not.toContain('u-two');
  });

  it('shows an older decision (no codes) as the server wrote it', async () => {
    const old: RoutingDecision = {
      ...DECISION,
      reasons: DECISION.reasons.map(({ code: _c, params: _p, ...r }) => r),
      assignmentDetails: undefined,
      candidates: DECISION.candidates!.map(({ details: _d, ...c }) => c),
    };
    await mount(
      <LocaleProvider locale="zh">
        <DecisionExplanation decision={old} staff={[]} self={ME} compact />
      </LocaleProvider>,
    );
    expect(texts('[data-testid="candidate-why"]')[1]).toBe('at capacity: 3/3 chats');
    expect(texts('[data-testid="decision-factor-note"]')[0]).toBe('spend 12000 on a log scale to 100000');
  });
});
