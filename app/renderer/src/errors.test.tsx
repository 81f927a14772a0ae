// @vitest-environment jsdom
import { act } from 'react';
import { createRoot, type Root } from 'react-dom/client';
import { afterEach, describe, expect, it } from 'vitest';
import { ERROR_CODES, HuiliuError } from '../../../common/errors/codes';
import { offlineBridge } from './test-support/bridge';
import { OutboxBanner, PendingReplies } from './components/outbox/Outbox';
import { ServerError } from './components/ServerError';
import { StoreContext } from './context';
import { codeOfStored, codeText, deliveryFailureText, errorKey, errorText } from './error-text';
import { createI18n, type Locale } from './locale';
import { LocaleProvider } from './LocaleProvider';
import { resources } from './locales';
import { createWorkstationStore } from './stores/workstation';

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

describe('server error codes in the UI language (errors namespace)', () => {
  it('has a sentence for every registry code, and none for a code the registry lacks', () => {
    expect(Object.keys(resources.en.errors.codes).sort()).toEqual(Object.keys(ERROR_CODES).sort());
    expect(Object.keys(resources.zh.errors.codes).sort()).toEqual(Object.keys(ERROR_CODES).sort());
    const zh = createI18n('zh');
    for (const code of Object.keys(ERROR_CODES)) {
      const text = zh.t(`errors:codes.${code}` as never) as string;
      expect(text, code).toMatch(/[\u4e00-\u9fff]/);
      expect(text, code).not.toBe(ERROR_CODES[code as keyof typeof ERROR_CODES].message);
    }
  });

  it('stores a code as a key, no answer as the caller’s fallback, and words it per language', () => {
    expect(errorKey(new HuiliuError('OFFER_TAKEN'), 'noAnswer')).toBe('errors:codes.OFFER_TAKEN');
    expect(errorKey(new HuiliuError('INTERNAL', 'fetch failed', { network: true }), 'noAnswer')).toBe('desk:errors.noAnswer');
    expect(errorKey(new Error('boom'), 'unreachable')).toBe('desk:errors.unreachable');
    expect(codeOfStored('errors:codes.OFFER_TAKEN')).toBe('OFFER_TAKEN');
    expect(codeOfStored('desk:errors.noAnswer')).toBeNull();
    expect(codeOfStored('errors:codes.NO_SUCH_CODE')).toBeNull();
    expect(errorText(createI18n('en'), 'errors:codes.OFFER_TAKEN')).toBe('Another agent already took this contact.');
    expect(errorText(createI18n('zh'), 'errors:codes.OFFER_TAKEN')).toBe('其他坐席已接入此会话。');
    expect(errorText(createI18n('zh'), 'plain words')).toBe('plain words');
    // A feature's own wording wins; an unknown code keeps the server's words, else the fallback.
    const zh = createI18n('zh');
    expect(codeText(zh, 'NOT_FOUND', 'Not found.', 'privacyRequest:errors.')).toBe('没有该客户。');
    expect(codeText(zh, 'NOT_FOUND', 'Not found.')).toBe('未找到。');
    expect(codeText(zh, 'UNSUPPORTED_KIND', 'The widget cannot show this.')).toBe('The widget cannot show this.');
    expect(codeText(zh, 'UNSUPPORTED_KIND', null)).toBe('操作失败。');
  });

  it('words every delivery failure the gateway sends in zh, never its English message', () => {
    // The codes the gateway's adapters put in `MessageDelivery.error` (dispatcher, web, XMPP, WeChat, app webhooks).
    const own = [
      'STAFF_ONLY',
      'NO_ADAPTER',
      'ADAPTER_ERROR',
      'CHANNEL_CLOSED',
      'UNSUPPORTED_KIND',
      'NO_RECIPIENT',
      'WECHAT_NO_RECIPIENT',
      'WEBHOOK_DEAD_LETTERED',
      'WEBHOOK_REFUSED',
      'CHANNEL_NOT_CONNECTED',
      'CHANNEL_ACCOUNT_INVALID',
    ];
    const zh = createI18n('zh');
    const en = createI18n('en');
    for (const code of own) {
      expect(deliveryFailureText(zh, { code }), code).toMatch(/[\u4e00-\u9fff]/);
      expect(deliveryFailureText(en, { code }), code).not.toContain('{{');
    }
    expect(deliveryFailureText(en, { code: 'WEBHOOK_REFUSED' })).toBe("the app's webhook refused it");
    // A channel's own code (an XMPP condition, a WeChat errcode) is named, in the UI language around it.
    expect(deliveryFailureText(zh, { code: 'service-unavailable' })).toBe('渠道拒收（service-unavailable）');
    expect(deliveryFailureText(en, { code: 'WECHAT_45015' })).toBe('the channel refused it (WECHAT_45015)');
    expect(deliveryFailureText(zh, null)).toBe('渠道拒收');
  });
});

describe('<ServerError> and the outbox banner', () => {
  let root: Root | null = null;
  let host: HTMLElement | null = null;
  afterEach(() => {
    act(() => root?.unmount());
    host?.remove();
    root = null;
  });
  const mount = (locale: Locale, node: React.ReactNode) => {
    host = document.createElement('div');
    document.body.append(host);
    root = createRoot(host);
    act(() => root!.render(<LocaleProvider locale={locale}>{node}</LocaleProvider>));
    return host;
  };

  it('shows the sentence and the code small for support', () => {
    const en = mount('en', <ServerError stored="errors:codes.SESSION_CLOSED" />);
    expect(en.querySelector('[data-testid="error-text"]')!.textContent).toBe('The conversation is closed.');
    expect(en.querySelector('small[data-testid="error-code"]')!.textContent).toBe('SESSION_CLOSED');
    expect(en.querySelector('small[data-testid="error-code"]')!.getAttribute('title')).toBe('Code SESSION_CLOSED');
    act(() => root!.unmount());
    host!.remove();
    const zh = mount('zh', <ServerError code="SESSION_CLOSED" message="The session is closed." />);
    expect(zh.querySelector('[data-testid="error-text"]')!.textContent).toBe('会话已结束。');
    expect(zh.querySelector('[data-testid="error-code"]')!.textContent).toBe('SESSION_CLOSED');
    expect(zh.textContent).not.toContain('The session is closed.');
  });

  it('shows no code for a failure without one', () => {
    const zh = mount('zh', <ServerError stored="desk:errors.noAnswer" />);
    expect(zh.textContent).toBe('服务器无响应，请重试。');
    expect(zh.querySelector('[data-testid="error-code"]')).toBeNull();
  });

  for (const locale of ['en', 'zh'] as const) {
    it(`words a refused wrap-up, accept and reply in ${locale}`, () => {
      const bridge = offlineBridge();
      const store = createWorkstationStore({
        api: { login: () => Promise.reject(new Error('not used')), logout: async () => undefined },
        bridge,
        connect: () => {
          throw new Error('not used');
        },
        storage: { getItem: () => null, setItem: () => undefined, removeItem: () => undefined },
      });
      store.setState({
        outboxRefusals: [
          { kind: 'wrap-up', sessionId: 'WB1', code: 'SESSION_CLOSED' },
          { kind: 'accept', sessionId: 'WB2', code: 'OFFER_TAKEN' },
        ],
        pending: [
          {
            clientMessageId: 'c1',
            sessionId: 'WB1',
            text: 'hi',
            status: 'refused',
            code: 'NOT_ASSIGNED',
            error: 'errors:codes.NOT_ASSIGNED',
          },
        ],
      } as never);
      const el = mount(
        locale,
        <StoreContext.Provider value={store}>
          <OutboxBanner />
          <ul>
            <PendingReplies sessionId="WB1" />
          </ul>
        </StoreContext.Provider>,
      );
      const banners = [...el.querySelectorAll('[data-testid="outbox-refused"]')];
      expect(banners.map((b) => b.getAttribute('data-code'))).toEqual(['SESSION_CLOSED', 'OFFER_TAKEN']);
      expect(banners.map((b) => b.querySelector('[data-testid="error-code"]')!.textContent)).toEqual(['SESSION_CLOSED', 'OFFER_TAKEN']);
      const reply = el.querySelector('[data-testid="pending-reply"]')!;
      if (locale === 'en') {
        expect(banners[0]!.textContent).toContain('Your wrap-up of WB1 was refused: The conversation is closed.');
        expect(banners[1]!.textContent).toContain('Your accept of WB2 was refused: Another agent already took this contact.');
        expect(reply.textContent).toContain('not delivered: This contact is not assigned to you.');
      } else {
        expect(banners[0]!.textContent).toContain('WB1 的结束处理被拒绝：会话已结束。');
        expect(banners[1]!.textContent).toContain('接受 WB2 被拒绝：其他坐席已接入此会话。');
        expect(reply.textContent).toContain('未送达：此会话未分配给你。');
        expect(reply.textContent).not.toContain('errors:');
      }
    });
  }
});
