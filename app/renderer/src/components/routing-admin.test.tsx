// @vitest-environment jsdom
import { act } from 'react';
import { createRoot, type Root } from 'react-dom/client';
import { afterEach, describe, expect, it } from 'vitest';
import type { Role, UserView } from '../../../../common/api/auth';
import type { RoutingConfigVersionView } from '../../../../common/api/routing';
import { offlineBridge } from '../test-support/bridge';
import { DEFAULT_ROUTING_CONFIG, type RoutingConfig, type RoutingDecision } from '../../../../common/routing/types';
import { createRoutingApi } from '../api/routing';
import { StoreContext } from '../context';
import { LocaleProvider } from '../LocaleProvider';
import type { Locale } from '../locale';
import { RoutingApiContext, StaffContext } from '../staff';
import { createWorkstationStore } from '../stores/workstation';
import { ContextPanel } from './ContextPanel';
import { TopBar } from './TopBar';
import { SIMULATION } from './routing/__fixtures__/simulation';
import { DecisionExplanation } from './routing/DecisionExplanation';
import { RoutingPage } from './routing/RoutingPage';

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

const user = (username: string, roles: Role[], skillGroups: string[], over: Partial<UserView> = {}): UserView => ({
  id: `u-${username}`,
  username,
  displayName: username.replace(/^agent(\d)$/, 'Agent $1').replace(/^(\w)/, (c) => c.toUpperCase()),
  roles,
  skillGroups,
  expert: false,
  ...over,
});
const STAFF: UserView[] = [
  user('admin', ['admin'], ['general', 'vip']),
  user('agent1', ['agent'], ['general'], { displayName: 'Agent One' }),
  user('agent2', ['agent'], ['vip'], { displayName: 'Agent Two', expert: true }),
  user('lead', ['lead'], ['general', 'vip'], { displayName: 'Team Lead' }),
];

const version = (v: number, config: RoutingConfig, comment: string | null, by = 'u-admin'): RoutingConfigVersionView => ({
  version: v,
  config: { ...config, version: v },
  publishedBy: by,
  publishedAt: '2025-03-01T09:00:00.000Z',
  comment,
});

interface Call {
  method: string;
  path: string;
  body: Record<string, unknown> | undefined;
}

/**
 * A fake routing server behind `fetch`: the config versions, the staff directory, the simulation, and
 * PUT/rollback that publish a new version, or answer `publishError` when set.
 */
function fakeServer(initial: RoutingConfigVersionView[], simulation: unknown = SIMULATION) {
  const versions = [...initial];
  const calls: Call[] = [];
  let publishError: { status: number; body: unknown } | null = null;
  const answer = (status: number, body: unknown) =>
    ({ ok: status < 400, status, json: async () => JSON.parse(JSON.stringify(body)) }) as Response;
  const fetch = async (input: string, init?: RequestInit): Promise<Response> => {
    const method = init?.method ?? 'GET';
    const body = init?.body ? (JSON.parse(String(init.body)) as Record<string, unknown>) : undefined;
    calls.push({ method, path: input, body });
    const current = versions[versions.length - 1]!;
    if (method === 'GET' && input === '/api/v1/routing/config') return answer(200, current);
    if (method === 'GET' && input === '/api/v1/routing/config/versions') return answer(200, { versions });
    if (method === 'GET' && input === '/api/v1/auth/users') return answer(200, { users: STAFF });
    if (method === 'POST' && input === '/api/v1/routing/simulate') return answer(200, simulation);
    if (method === 'PUT' && input === '/api/v1/routing/config') {
      if (publishError) return answer(publishError.status, publishError.body);
      const next = version(versions.length + 1, body!.config as RoutingConfig, (body!.comment as string) ?? null);
      versions.push(next);
      return answer(201, next);
    }
    if (method === 'POST' && input === '/api/v1/routing/config/rollback') {
      const from = versions.find((v) => v.version === body!.version)!;
      const next = version(versions.length + 1, from.config, (body!.comment as string) ?? `rollback to version ${from.version}`);
      versions.push(next);
      return answer(201, next);
    }
    return answer(404, { error: { code: 'NOT_FOUND', message: 'No such route.' } });
  };
  return {
    fetch,
    calls,
    refuse(status: number, body: unknown) {
      publishError = { status, body };
    },
  };
}

const bridge = offlineBridge();

function workstation(signedIn: UserView) {
  const store = createWorkstationStore({
    api: { login: () => Promise.reject(new Error('not used')), logout: async () => undefined },
    bridge,
    connect: () => {
      throw new Error('not used');
    },
    storage: { getItem: () => null, setItem: () => undefined, removeItem: () => undefined },
  });
  store.setState({ token: 't', user: signedIn });
  return store;
}

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

/** The routing page for `signedIn`, against a fake server holding `versions`. */
async function renderPage(signedIn: UserView, versions: RoutingConfigVersionView[], locale: Locale = 'en', simulation?: unknown) {
  const server = fakeServer(versions, simulation);
  await mount(
    <LocaleProvider locale={locale}>
      <RoutingApiContext.Provider value={createRoutingApi({ fetch: server.fetch })}>
        <StoreContext.Provider value={workstation(signedIn)}>
          <RoutingPage />
        </StoreContext.Provider>
      </RoutingApiContext.Provider>
    </LocaleProvider>,
  );
  await settle();
  return server;
}

const settle = () => act(async () => new Promise((r) => setTimeout(r, 0)));
const $ = <T extends Element = HTMLElement>(selector: string) => host.querySelector<T>(selector);
const $$ = (selector: string) => [...host.querySelectorAll<HTMLElement>(selector)];
const text = (selector: string) => $(selector)?.textContent ?? '';
const field = (path: string) => $<HTMLInputElement>(`input[data-path="${path}"]`)!;
const issueAt = (path: string) => text(`[data-testid="field-issue"][data-path="${path}"]`);

async function fill(el: HTMLInputElement, value: string) {
  await act(async () => {
    Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value')!.set!.call(el, value);
    el.dispatchEvent(new Event('input', { bubbles: true }));
  });
}
async function choose(el: HTMLSelectElement, value: string) {
  await act(async () => {
    Object.getOwnPropertyDescriptor(HTMLSelectElement.prototype, 'value')!.set!.call(el, value);
    el.dispatchEvent(new Event('change', { bubbles: true }));
  });
}
const click = async (el: Element | null | undefined) => {
  if (!el) throw new Error('nothing to click');
  await act(async () => (el as HTMLElement).click());
  await settle();
};
const button = (label: string) => $$('button').find((b) => b.textContent === label);

const ADMIN = STAFF[0]!;
const LEAD = STAFF[3]!;
const V1 = version(1, DEFAULT_ROUTING_CONFIG, 'initial', 'config-file');

describe('the routing page: the version in force and the draft editor', () => {
  it('shows the version in force with its author, time and comment, every section, and the staff by name', async () => {
    await renderPage(ADMIN, [V1]);
    expect(text('[data-testid="current-version"]')).toContain('Version 1 in force');
    expect(text('[data-testid="current-version"]')).toContain('published by the config file');
    expect(text('[data-testid="current-version"]')).toContain('initial');
    expect($$('.section__title').map((s) => s.textContent)).toEqual([
      'Priority and tiers',
      'Value score',
      'Capacity',
      'Offers and timers',
      'Waiting-time aging',
      'Skill groups and proficiency',
      'Widening rings',
      'Service level',
    ]);
    expect(field('weights.value').value).toBe('0.6');
    expect(field('offerTimeoutMs').value).toBe('20');
    expect(field('serviceLevel.target').value).toBe('80');
    // Skill groups from the directory, members by name, proficiency default.
    expect($$('[data-testid="skill-group"]').map((g) => g.dataset.group)).toEqual(['general', 'vip']);
    expect(text('[data-group="vip"]')).toContain('Agent Two');
    expect(text('[data-group="vip"]')).toContain('expert: counts as 5');
    expect(text('[data-testid="draft-status"]')).toBe('Same as version 1');
  });

  it('refuses what the schema refuses, naming the field, and blocks Compare and Publish until fixed', async () => {
    await renderPage(ADMIN, [V1]);
    await fill(field('thresholds.expert'), '40');
    await fill(field('capacity.chat'), '25');
    await fill(field('offerTimeoutMs'), '0.5');
    await fill(field('weights.difficulty'), '0.5');
    expect(issueAt('thresholds')).toBe('the expert threshold must be above the assisted one');
    expect(issueAt('capacity.chat')).toBe('at most 20');
    // Milliseconds are edited as seconds, and the limit is said in seconds.
    expect(issueAt('offerTimeoutMs')).toBe('at least 1');
    expect(issueAt('weights')).toBe('value + difficulty must be 1');
    expect(text('[data-testid="problems"]')).toContain('4 problems to fix');
    expect(text('[data-testid="problems"]')).toContain('Chats at once: at most 20');
    await fill($<HTMLInputElement>('[data-testid="publish-comment"]')!, 'try');
    expect($<HTMLButtonElement>('[data-testid="publish"]')!.disabled).toBe(true);
    expect($<HTMLButtonElement>('[data-testid="compare"]')!.disabled).toBe(true);

    await fill(field('thresholds.expert'), '85');
    await fill(field('capacity.chat'), '4');
    await fill(field('offerTimeoutMs'), '30');
    await fill(field('weights.difficulty'), '0.4');
    expect($('[data-testid="problems"]')).toBeNull();
    expect($('[data-testid="field-issue"]')).toBeNull();
    expect($<HTMLButtonElement>('[data-testid="publish"]')!.disabled).toBe(false);
    expect(text('[data-testid="draft-status"]')).toBe('3 changes from version 1');
    expect(text('[data-testid="draft-changes"]')).toContain('Offer timeout (s): 20 → 30');
  });

  it('checks the widening rings: the first starts at 0 s and each later one after the last; one ring at least', async () => {
    await renderPage(ADMIN, [V1]);
    await fill(field('widening.expert.1.afterSeconds'), '200');
    expect(issueAt('widening.expert')).toBe('rings must start later and later');
    await fill(field('widening.expert.1.afterSeconds'), '60');
    expect($('[data-testid="field-issue"]')).toBeNull();
    const ai = $('[data-testid="rings-ai"]')!;
    await click(ai.querySelector('button[aria-label="Remove ring 2"]'));
    expect(ai.querySelector<HTMLButtonElement>('button[aria-label="Remove ring 1"]')!.disabled).toBe(true);
    await click([...ai.querySelectorAll('button')].find((b) => b.textContent === '+ Add ring'));
    expect(field('widening.ai.1.afterSeconds').value).toBe('60');
  });

  it('keeps the two weights summing to 1 with the slider and publishes the draft with its comment', async () => {
    const server = await renderPage(ADMIN, [V1]);
    await fill($<HTMLInputElement>('[data-testid="weight-slider"]')!, '0.3');
    expect(field('weights.value').value).toBe('0.3');
    expect(field('weights.difficulty').value).toBe('0.7');
    await choose($<HTMLSelectElement>('select[data-path="skillGroups.vip.proficiency.agent2"]')!, '4');
    expect(text('[data-testid="publish"]')).toBe('Publish as version 2');
    await click($('[data-testid="compare"]'));
    expect($('[data-testid="simulation"]')).not.toBeNull();
    await fill($<HTMLInputElement>('[data-testid="publish-comment"]')!, 'Difficulty matters more this week');
    await click($('[data-testid="publish"]'));

    const put = server.calls.find((c) => c.method === 'PUT')!;
    expect(put.path).toBe('/api/v1/routing/config');
    expect(put.body?.comment).toBe('Difficulty matters more this week');
    const sent = put.body?.config as RoutingConfig;
    expect(sent.weights).toEqual({ value: 0.3, difficulty: 0.7 });
    expect(sent.skillGroups.vip).toEqual({ fallback: null, proficiency: { agent2: 4 } });
    expect(text('[data-testid="publish-notice"]')).toContain('Version 2 published');
    expect(text('[data-testid="current-version"]')).toContain('Version 2 in force');
    expect(text('[data-testid="current-version"]')).toContain('published by Admin');
    expect(text('[data-testid="draft-status"]')).toBe('Same as version 2');
    expect($$('[data-testid="version-row"]').map((r) => r.dataset.version)).toEqual(['2', '1']);
    // The comparison was against version 1: it is gone once version 2 is in force.
    expect($('[data-testid="simulation"]')).toBeNull();
  });

  it('shows the server’s VALIDATION_FAILED next to the field it names', async () => {
    const server = await renderPage(ADMIN, [V1]);
    server.refuse(400, {
      error: {
        code: 'VALIDATION_FAILED',
        message: 'The request is not valid.',
        details: [{ path: 'config.capacity.chat', message: 'too many chats for this deployment' }],
      },
    });
    await fill(field('capacity.chat'), '12');
    await fill($<HTMLInputElement>('[data-testid="publish-comment"]')!, 'more chats');
    await click($('[data-testid="publish"]'));
    expect(issueAt('capacity.chat')).toBe('server: too many chats for this deployment');
    expect(text('[data-testid="publish-error"]')).toContain('Not published: The request is not valid.');
    expect(text('[data-testid="current-version"]')).toContain('Version 1 in force');
    // The next edit clears what the server said about the last attempt.
    await fill(field('capacity.chat'), '11');
    expect(issueAt('capacity.chat')).toBe('');
  });
});

describe('the what-if comparison', () => {
  it('sends the draft and shows current vs draft side by side: chart, figures, tier mix, groups, changed contacts', async () => {
    const server = await renderPage(ADMIN, [V1]);
    await fill($<HTMLInputElement>('[data-testid="weight-slider"]')!, '0.3');
    await click($('[data-testid="compare"]'));

    const sim = server.calls.find((c) => c.path === '/api/v1/routing/simulate')!;
    expect((sim.body?.config as RoutingConfig).weights).toEqual({ value: 0.3, difficulty: 0.7 });
    expect(sim.body?.window).toBeUndefined();
    expect(sim.body?.workload).toMatchObject({ source: 'auto', contactsPerHour: 120, hours: 8 });

    expect(text('[data-testid="sim-source"]')).toContain('Generated workload');
    expect(text('[data-testid="sim-contacts"]')).toBe('240 contacts');
    const row = (metric: string) =>
      [...$(`[data-testid="sim-kpis"] tr[data-metric="${metric}"]`)!.querySelectorAll('td')].map((c) => c.textContent);
    expect(row('serviceLevel')).toEqual(['Service level', '82%', '76%', '−6 pp']);
    expect(row('asa')).toEqual(['ASA (s)', '14.2', '19.8', '+5.6 s']);
    expect(row('tier-expert')).toEqual(['expert', '10%', '25%', '+15 pp']);
    expect($('tr[data-metric="serviceLevel"] .delta')!.className).toContain('delta--bad');
    // The grouped bar chart: two bars (current, draft) per rate, four rates.
    expect($$('[data-testid="sim-chart"] .recharts-bar-rectangle')).toHaveLength(8);
    expect($$('[data-testid="sim-tier-chart"] .recharts-bar-rectangle').length).toBeGreaterThanOrEqual(6);
    expect(text('[data-testid="sim-groups"]')).toContain('73% → 62%');
    expect(text('[data-testid="sim-changes-summary"]')).toBe('3 changed: 2 tier, 2 agent');
    const changes = $$('[data-testid="sim-change"]').map((r) => r.textContent);
    expect(changes[0]).toContain('AP202503010800000001');
    expect(changes[0]).toContain('assisted → expert');
    expect(changes[0]).toContain('Agent One → Agent Two');
    expect(changes[1]).toContain('queue → queue');
    expect(changes[2]).toContain('#3');
    expect($('[data-testid="sim-stale"]')).toBeNull();

    // Editing the draft afterwards marks the comparison as stale.
    await fill(field('thresholds.expert'), '90');
    expect(text('[data-testid="sim-stale"]')).toContain('compare again');
  });

  it('sends a replay window and a generated workload when given', async () => {
    const server = await renderPage(ADMIN, [V1]);
    const inputs = $$('.whatif__params input') as HTMLInputElement[];
    await fill(inputs[0]!, '2025-03-01T08:00');
    await fill(inputs[1]!, '2025-03-01T16:00');
    await choose($<HTMLSelectElement>('.whatif__params select')!, 'generated');
    await fill(inputs[2]!, '300');
    await click($('[data-testid="compare"]'));
    const body = server.calls.find((c) => c.path === '/api/v1/routing/simulate')!.body!;
    expect(body.window).toEqual({ from: new Date('2025-03-01T08:00').toISOString(), to: new Date('2025-03-01T16:00').toISOString() });
    expect(body.workload).toMatchObject({ source: 'generated', contactsPerHour: 300 });
  });

  it('shows what the simulator adds when it says it: agents, the AI tier, its assumptions, unanswered contacts', async () => {
    const withExtras = {
      ...SIMULATION,
      agents: 6,
      aiTier: false,
      notes: ['4 contacts had no value facts: spend 0 assumed'],
      current: { ...SIMULATION.current, metrics: { ...SIMULATION.current.metrics, unanswered: 2 } },
      draft: { metrics: { ...SIMULATION.draft.metrics, unanswered: 5 } },
    };
    await renderPage(ADMIN, [V1], 'en', withExtras);
    await click($('[data-testid="compare"]'));
    expect(text('[data-testid="sim-agents"]')).toBe('6 agents');
    expect(text('[data-testid="sim-source"]')).toContain('AI tier off: ai-tier contacts go to people');
    expect(text('[data-testid="sim-notes"]')).toContain('What the replay assumed (1)');
    expect(text('[data-testid="sim-notes"]')).toContain('4 contacts had no value facts: spend 0 assumed');
    const row = [...$('tr[data-metric="unanswered"]')!.querySelectorAll('td')].map((c) => c.textContent);
    expect(row).toEqual(['Unanswered', '2', '5', '+3']);
  });

  it('words the simulator’s assumptions from their codes in Chinese, and keeps the English for a code it does not know', async () => {
    const withNotes = {
      ...SIMULATION,
      agents: 2,
      aiTier: false,
      notes: [
        'Generated workload: Poisson arrivals, exponential handle time, patience and AI time (docs/what-if.md).',
        'Agents: the 2 agents on record in general, vip, signed in the whole time.',
        'The AI tier is not answering on this server: ai-tier contacts go to people.',
        "The cluster's shared decision log did not answer: the window was read from this server's own log only, without other servers' contacts.",
      ],
      noteDetails: [
        { code: 'generated' },
        { code: 'agents-on-record', params: { count: 2, groups: 'general, vip' } },
        { code: 'ai-tier-off' },
        { code: 'decisions-local-only' },
      ],
    };
    await renderPage(ADMIN, [V1], 'zh', withNotes);
    await click($('[data-testid="compare"]'));
    const items = [...$('[data-testid="sim-notes"]')!.querySelectorAll('li')].map((li) => li.textContent ?? '');
    expect(items).toEqual([
      '生成的工作量：泊松到达，处理时长、耐心和 AI 时长均服从指数分布（docs/what-if.md）。',
      '坐席：general, vip 中登记的 2 名坐席，全程在线。',
      '本服务器的 AI 层未应答：AI 层级的会话交给人工。',
      '集群共享的路由决策日志未应答：该时间窗仅读取了本服务器自己的日志，不含其他服务器的会话。',
    ]);
    act(() => root?.unmount());
    root = null;
    host.remove();
    const newer = {
      ...withNotes,
      noteDetails: [{ code: 'generated' }, { code: 'from-a-newer-server' }, { code: 'ai-tier-off' }, { code: 'decisions-local-only' }],
    };
    await renderPage(ADMIN, [V1], 'zh', newer);
    await click($('[data-testid="compare"]'));
    const mixed = [...$('[data-testid="sim-notes"]')!.querySelectorAll('li')].map((li) => li.textContent ?? '');
    expect(mixed[1]).toBe(withNotes.notes[1]);
    expect(mixed[2]).toBe('本服务器的 AI 层未应答：AI 层级的会话交给人工。');
  });

  it('speaks Chinese', async () => {
    await renderPage(ADMIN, [V1], 'zh');
    await click($('[data-testid="compare"]'));
    expect(text('h2')).toBe('路由配置');
    expect(text('[data-testid="current-version"]')).toContain('当前生效：第 1 版');
    expect(text('[data-testid="sim-source"]')).toContain('生成的负载');
    expect(text('[data-testid="sim-contacts"]')).toBe('240 个会话');
    expect(text('[data-testid="sim-kpis"]')).toContain('服务水平');
    // Percentage-point changes carry a Chinese unit, not the English "pp" (i18next falls back on an empty string).
    expect(text('[data-testid="sim-kpis"]')).toContain('个百分点');
    expect(text('[data-testid="sim-kpis"]')).not.toMatch(/\bpp\b/);
    expect(text('[data-testid="sim-changes-summary"]')).toBe('共 3 个改变：分层 2 个，坐席 2 个');
    expect(text('[data-testid="sim-changes"]')).toContain('辅助 → 专家');
    expect(text('[data-testid="publish"]')).toBe('发布为第 2 版');
  });
});

describe('versions and rollback', () => {
  const V2 = version(2, { ...DEFAULT_ROUTING_CONFIG, weights: { value: 0.3, difficulty: 0.7 } }, 'difficulty first');

  it('lists versions newest first; View shows the differences; an admin rolls back after confirming', async () => {
    const server = await renderPage(ADMIN, [V1, V2]);
    const rows = $$('[data-testid="version-row"]');
    expect(rows.map((r) => r.dataset.version)).toEqual(['2', '1']);
    expect(rows[0]!.textContent).toContain('in force');
    expect(rows[0]!.textContent).toContain('Admin');
    expect(rows[0]!.textContent).toContain('difficulty first');
    expect(rows[0]!.querySelector('[data-testid="rollback"]')).toBeNull();

    await click([...rows[1]!.querySelectorAll('button')].find((b) => b.textContent === 'View'));
    expect(text('[data-testid="version-diff"]')).toContain('Value weight 0.3 → 0.6');

    await click(rows[1]!.querySelector('[data-testid="rollback"]'));
    expect(text('[data-testid="rollback-confirm"]')).toContain('Publish version 1’s config again, as a new version?');
    expect(server.calls.some((c) => c.path.endsWith('/rollback'))).toBe(false);
    await click(button('Roll back'));
    expect(server.calls.find((c) => c.path.endsWith('/rollback'))?.body).toEqual({ version: 1 });
    expect(text('[data-testid="publish-notice"]')).toBe('Rolled back to version 1: version 3 is in force.');
    expect(field('weights.value').value).toBe('0.6');
  });
});

describe('read only for leads and auditors', () => {
  it('shows a lead everything with no way to publish or roll back, and lets them compare', async () => {
    const server = await renderPage(LEAD, [V1, version(2, DEFAULT_ROUTING_CONFIG, 'same again')]);
    expect(text('[data-testid="read-only"]')).toBe('Read only: only admins publish or roll back.');
    expect($('[data-testid="publish"]')).toBeNull();
    expect($('[data-testid="publish-comment"]')).toBeNull();
    expect($('[data-testid="rollback"]')).toBeNull();
    expect($<HTMLFieldSetElement>('[data-testid="config-editor"]')!.disabled).toBe(true);
    expect($$('.sg__add')).toHaveLength(0);
    expect($$('[data-testid="version-row"]')).toHaveLength(2);
    await click($('[data-testid="compare"]'));
    expect($('[data-testid="simulation"]')).not.toBeNull();
    expect(server.calls.some((c) => c.method === 'PUT' || c.path.endsWith('/rollback'))).toBe(false);
  });
});

describe('the view switch', () => {
  async function renderBar(signedIn: UserView, locale: Locale = 'en') {
    await mount(
      <LocaleProvider locale={locale}>
        <StoreContext.Provider value={workstation(signedIn)}>
          <TopBar view="workstation" onView={() => undefined} />
        </StoreContext.Provider>
      </LocaleProvider>,
    );
  }

  it('offers leads their desk, board, supervision, KPIs and routing; Routing | Audit to auditors (who have no desk); nothing to agents', async () => {
    await renderBar(LEAD);
    expect($$('[role="tab"]').map((t) => t.textContent)).toEqual(['Workstation', 'Board', 'Supervise', 'KPIs', 'Routing']);
    act(() => root?.unmount());
    root = null;
    await renderBar(user('auditor', ['auditor'], []), 'zh');
    expect($$('[role="tab"]').map((t) => t.textContent)).toEqual(['路由', '审计']);
    act(() => root?.unmount());
    root = null;
    await renderBar(STAFF[1]!);
    expect($$('[role="tab"]')).toHaveLength(0);
  });
});

const DECISION: RoutingDecision = {
  valueScore: 30,
  difficultyScore: 80,
  priority: 65,
  tier: 'assisted',
  configVersion: 4,
  weights: { value: 0.3, difficulty: 0.7 },
  thresholds: { expert: 80, assisted: 50 },
  skillGroup: 'vip',
  reasons: [
    { factor: 'emotion', value: 0.9, points: 18, note: 'strong negative emotion' },
    { factor: 'spend', value: 0.2, points: 6, note: 'spend 2,000 of 100,000' },
  ],
  offeredTo: 'u-agent2',
  assignment: 'most proficient available agent',
  decidedAt: '2025-03-01T09:00:00.000Z',
  trigger: 'widened',
  effectivePriority: 69,
  waitedMs: 125_000,
  ring: { index: 1, minProficiency: 1, skillGroups: ['vip', 'general'] },
  candidates: [
    { agentId: 'u-agent1', chosen: false, reasons: ['at capacity 3/3'], codes: ['at-capacity'], proficiency: 3, skillGroup: 'general' },
    { agentId: 'u-agent2', chosen: true, reasons: ['proficiency 5, idle 4 min'], codes: ['chosen'], proficiency: 5, skillGroup: 'vip' },
    { agentId: 'u-lead', chosen: false, reasons: ['declined 40 s ago'], codes: ['declined-recently'], proficiency: 4, skillGroup: 'vip' },
  ],
};

describe('the routing explanation', () => {
  it('shows scores, weights, config version, tier, trigger, ring, aging, wait and every candidate with why', async () => {
    await mount(
      <LocaleProvider locale="en">
        <DecisionExplanation decision={DECISION} staff={STAFF} />
      </LocaleProvider>,
    );
    expect(text('[data-testid="decision-config-version"]')).toBe('config v4');
    expect(text('[data-testid="decision-tier"]')).toBe('assisted');
    expect(text('.decision__scores')).toContain('30 × 0.3');
    expect(text('.decision__scores')).toContain('80 × 0.7');
    expect(text('[data-testid="decision-trigger"]')).toBe('a wider ring opened');
    expect(text('[data-testid="decision-ring"]')).toBe('ring 2: proficiency ≥ 1 · vip, general');
    expect(text('[data-testid="decision-effective"]')).toBe('69');
    expect(text('.decision__scores')).toContain('2 min 5 s');
    expect(text('[data-testid="decision-offered-to"]')).toBe('Agent Two');
    const rows = $$('[data-testid="candidate"]');
    // The chosen agent first, then the others as the router listed them.
    expect(rows.map((r) => r.querySelector('td')!.textContent)).toEqual(['Agent Two', 'Agent One', 'Team Lead']);
    expect(rows[0]!.dataset.chosen).toBe('true');
    expect(rows[1]!.textContent).toContain('at capacity');
    expect(rows[1]!.textContent).toContain('at capacity 3/3');
    expect(rows[2]!.textContent).toContain('declined recently');
    expect(rows[2]!.textContent).toContain('declined 40 s ago');
    expect(text('.decision__fold')).toContain('strong negative emotion');
  });

  it('renders an older decision without the issue-11 fields', async () => {
    const old: RoutingDecision = {
      ...DECISION,
      candidates: undefined,
      trigger: undefined,
      ring: undefined,
      effectivePriority: undefined,
      waitedMs: undefined,
    };
    await mount(
      <LocaleProvider locale="en">
        <DecisionExplanation decision={old} staff={[]} />
      </LocaleProvider>,
    );
    expect(text('[data-testid="decision-config-version"]')).toBe('config v4');
    expect($('[data-testid="decision-ring"]')).toBeNull();
    expect(text('[data-testid="decision-candidates"]')).toContain('No candidate agents were recorded');
    expect(text('[data-testid="decision-offered-to"]')).toBe('u-agent2');
  });

  it('is in the workstation’s context panel for the open contact, in Chinese for a Chinese-speaking agent', async () => {
    const store = workstation(STAFF[2]!);
    store.setState({
      detail: {
        id: 'AP1',
        routing: { ...DECISION, candidates: DECISION.candidates!.filter((c) => c.agentId === 'u-agent2') },
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
    const panel = $('[data-testid="routing"]')!;
    expect(panel.querySelector('summary')!.textContent).toBe('路由');
    expect(text('[data-testid="decision-config-version"]')).toBe('配置第 4 版');
    expect(text('[data-testid="decision-tier"]')).toBe('辅助');
    expect(text('[data-testid="decision-trigger"]')).toBe('扩大了接待范围');
    const cands = $$('[data-testid="candidate"]');
    expect(cands).toHaveLength(1);
    // An agent reads no staff directory: their own line is named from their session.
    expect(cands[0]!.textContent).toContain('Agent Two(你)');
    expect(text('h3')).toBe('客户');
  });
});
