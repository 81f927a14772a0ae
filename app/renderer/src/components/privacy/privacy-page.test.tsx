// @vitest-environment jsdom
import { act } from 'react';
import { createRoot, type Root } from 'react-dom/client';
import { afterEach, describe, expect, it } from 'vitest';
import type { PrivacyRequestView } from '../../../../../common/api/privacy';
import { HuiliuError } from '../../../../../common/errors/codes';
import type { DesktopBridge } from '../../../../../common/ipc/desktop-bridge';
import { PrivacyApiContext, type PrivacyApi } from '../../api/privacy';
import { StoreContext } from '../../context';
import type { Locale } from '../../locale';
import { LocaleProvider } from '../../LocaleProvider';
import { createWorkstationStore } from '../../stores/workstation';
import { PrivacyPage } from './PrivacyPage';

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

const ME = 'privacy1';
const at = '2026-03-04T06:05:00.000Z';
const request = (over: Partial<PrivacyRequestView>): PrivacyRequestView => ({
  id: '00000000-0000-4000-8000-000000000001',
  kind: 'export',
  status: 'pending',
  customerId: '00000000-0000-4000-8000-00000000000c',
  sessionId: null,
  reason: 'asked by email',
  requestedBy: 'agent1',
  requestedAt: at,
  decidedBy: null,
  decidedAt: null,
  dueAt: at,
  overdue: true,
  expiresAt: null,
  completedAt: null,
  ...over,
});

/** The privacy officer's page (issue 17) in both languages: its words and a refusal from the server. */
describe('the privacy page in zh and en', () => {
  let root: Root | null = null;
  let host: HTMLElement | null = null;
  afterEach(() => {
    act(() => root?.unmount());
    host?.remove();
  });

  async function mount(locale: Locale) {
    const api: PrivacyApi = {
      file: () => Promise.reject(new Error('not used')),
      list: async (_t, kind) =>
        kind === 'export' ? [request({}), request({ id: '00000000-0000-4000-8000-000000000002', requestedBy: ME })] : [],
      approve: async () => {
        throw new HuiliuError('PRIVACY_SELF_APPROVAL');
      },
      reject: () => Promise.reject(new Error('not used')),
      download: () => Promise.reject(new Error('not used')),
    };
    const store = createWorkstationStore({
      api: { login: () => Promise.reject(new Error('not used')), logout: async () => undefined },
      bridge: {} as DesktopBridge,
      connect: () => {
        throw new Error('not used');
      },
      storage: { getItem: () => null, setItem: () => undefined, removeItem: () => undefined },
    });
    store.setState({
      token: 't',
      user: { id: ME, username: ME, displayName: 'P', roles: ['privacy-officer'], skillGroups: [], expert: false },
    } as never);
    host = document.createElement('div');
    document.body.append(host);
    root = createRoot(host);
    await act(async () =>
      root!.render(
        <LocaleProvider locale={locale}>
          <StoreContext.Provider value={store}>
            <PrivacyApiContext.Provider value={api}>
              <PrivacyPage />
            </PrivacyApiContext.Provider>
          </StoreContext.Provider>
        </LocaleProvider>,
      ),
    );
    return host;
  }

  const approveOwn = async (el: HTMLElement) => {
    const own = el.querySelector('[data-testid="privacy-row"][data-id="00000000-0000-4000-8000-000000000002"]')!;
    await act(async () => (own.querySelector('[data-testid="privacy-approve"]') as HTMLButtonElement).click());
    return el.querySelector('[data-testid="privacy-error"]')!;
  };

  it('speaks English, and words the self-approval refusal with its code', async () => {
    const el = await mount('en');
    expect(el.querySelector('h2')!.textContent).toBe('Privacy requests');
    const row = el.querySelector('[data-testid="privacy-row"]')!;
    expect(row.querySelector('[data-testid="privacy-status"]')!.textContent).toBe('Pending');
    expect(row.querySelector('[data-testid="privacy-due"]')!.textContent).toContain('Overdue');
    expect(row.querySelector('[data-testid="privacy-approve"]')!.getAttribute('aria-label')).toBe(
      'Approve the data export for customer 00000000-0000-4000-8000-00000000000c',
    );
    expect(el.querySelectorAll('strong')[0]!.textContent).toBe('you');
    const error = await approveOwn(el);
    expect(error.getAttribute('data-code')).toBe('PRIVACY_SELF_APPROVAL');
    expect(error.querySelector('[data-testid="error-text"]')!.textContent).toBe('You filed this request: someone else must decide it.');
    expect(error.querySelector('[data-testid="error-code"]')!.textContent).toBe('PRIVACY_SELF_APPROVAL');
  });

  it('speaks Chinese, with no English word left', async () => {
    const el = await mount('zh');
    expect(el.querySelector('h2')!.textContent).toBe('隐私请求');
    const row = el.querySelector('[data-testid="privacy-row"]')!;
    expect(row.querySelector('[data-testid="privacy-status"]')!.textContent).toBe('待审批');
    expect(row.querySelector('[data-testid="privacy-approve"]')!.getAttribute('aria-label')).toBe(
      '批准客户 00000000-0000-4000-8000-00000000000c 的数据导出请求',
    );
    const error = await approveOwn(el);
    expect(error.querySelector('[data-testid="error-text"]')!.textContent).toBe('此请求由你提交，须由他人审批。');
    // Only ids, codes and the customer's reason stay Latin.
    const visible = el.textContent!.replace(/[0-9a-f-]{36}/g, '').replace(/PRIVACY_SELF_APPROVAL|asked by email|agent1|privacy1/g, '');
    expect(visible).not.toMatch(/[A-Za-z]{2,}/);
  });
});
