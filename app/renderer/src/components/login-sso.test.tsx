// @vitest-environment jsdom
import { act } from 'react';
import { createRoot, type Root } from 'react-dom/client';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { LoginResponse } from '../../../../common/api/auth';
import { HuiliuError } from '../../../../common/errors/codes';
import { offlineBridge } from '../test-support/bridge';
import type { AgentConnection } from '../api/agent-socket';
import { ssoResultOf, type SignInProviders } from '../api/http';
import { StoreContext } from '../context';
import { LocaleProvider } from '../LocaleProvider';
import type { Locale } from '../locale';
import { createWorkstationStore } from '../stores/workstation';
import { Login } from './Login';
import { errorText } from '../error-text';
import { createI18n } from '../locale';

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

const session: LoginResponse = {
  token: 'sso-token',
  expiresAt: '2026-03-01T21:00:00.000Z',
  user: { id: 'u9', username: 'li.na', displayName: 'Li Na', roles: ['agent'], skillGroups: ['general'], expert: false },
};

function workstation(exchangeSso: (handoff: string) => Promise<LoginResponse>) {
  const bridge = offlineBridge();
  const saved = new Map<string, string>();
  const store = createWorkstationStore({
    api: { login: () => Promise.reject(new Error('not used')), logout: async () => undefined, exchangeSso },
    bridge,
    connect: () =>
      ({
        socket: { on: () => undefined },
        request: () => new Promise(() => undefined),
        close: () => undefined,
      }) as unknown as AgentConnection,
    storage: { getItem: (k) => saved.get(k) ?? null, setItem: (k, v) => void saved.set(k, v), removeItem: (k) => void saved.delete(k) },
  });
  return { store, saved };
}

describe('enterprise sign-in on the login page (issue 17)', () => {
  let root: Root | null = null;
  let host: HTMLDivElement;
  afterEach(() => {
    act(() => root?.unmount());
    host.remove();
  });

  async function show(locale: Locale, providers: SignInProviders) {
    host = document.createElement('div');
    document.body.append(host);
    root = createRoot(host);
    const { store } = workstation(async () => session);
    await act(async () => {
      root!.render(
        <LocaleProvider locale={locale}>
          <StoreContext.Provider value={store}>
            <Login providers={providers} />
          </StoreContext.Provider>
        </LocaleProvider>,
      );
    });
  }

  it('offers "Sign in with <provider>" in English and 使用…登录 in Chinese, linking to the server’s start', async () => {
    await show('en', { oidc: { name: 'Contoso ID', startUrl: '/api/v1/auth/oidc/start' } });
    const link = host.querySelector<HTMLAnchorElement>('a.login__sso')!;
    expect(link.textContent).toBe('Sign in with Contoso ID');
    expect(link.getAttribute('href')).toBe('/api/v1/auth/oidc/start');
    act(() => root?.unmount());
    host.remove();
    await show('zh', { oidc: { name: 'Contoso ID', startUrl: '/api/v1/auth/oidc/start' } });
    expect(host.querySelector('a.login__sso')!.textContent).toBe('使用 Contoso ID 登录');
  });

  it('shows no such button when the server has no provider', async () => {
    await show('en', { oidc: null });
    expect(host.querySelector('a.login__sso')).toBeNull();
    expect(host.querySelector('button[type="submit"]')!.textContent).toBe('Sign in');
  });
});

describe('coming back from the provider', () => {
  it('reads the hand-over code or the refusal from the page address', () => {
    expect(ssoResultOf('#oidc=abc123')).toEqual({ handoff: 'abc123' });
    expect(ssoResultOf('#oidc-error=FORBIDDEN')).toEqual({ error: 'FORBIDDEN' });
    expect(ssoResultOf('')).toBeNull();
    expect(ssoResultOf('#/queue')).toBeNull();
  });

  it('signs in with the session the hand-over code stands for, and keeps it for a reload', async () => {
    const exchange = vi.fn(async () => session);
    const { store, saved } = workstation(exchange);
    await store.getState().loginWithSso('abc123');
    expect(exchange).toHaveBeenCalledWith('abc123');
    expect(store.getState()).toMatchObject({ token: 'sso-token', user: { username: 'li.na' }, loginError: null });
    expect(JSON.parse(saved.get('huiliu.token')!)).toMatchObject({ token: 'sso-token' });
  });

  it('shows the server’s refusal of a used hand-over code', async () => {
    const { store } = workstation(async () => {
      throw new HuiliuError('SSO_FAILED');
    });
    await store.getState().loginWithSso('used');
    expect(store.getState()).toMatchObject({ token: null, loginError: 'errors:codes.SSO_FAILED' });
    expect(errorText(createI18n('en'), store.getState().loginError!)).toBe(
      'Signing in with your organisation did not complete; start again.',
    );
  });
});
