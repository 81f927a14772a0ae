// @vitest-environment jsdom
import { act, useState } from 'react';
import { createRoot, type Root } from 'react-dom/client';
import { afterEach, describe, expect, it } from 'vitest';
import type { CannedReply } from '../../../../../common/api/canned';
import { CannedApiContext, type CannedApi } from '../../api/canned';
import { LocaleProvider } from '../../LocaleProvider';
import type { Locale } from '../../locale';
import { applyCanned, CannedList, cannedQueryAt, useCannedPicker } from './CannedPicker';
import { sendsOnEnter } from '../ime';

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

describe('cannedQueryAt / applyCanned', () => {
  it('finds the /word the cursor ends, only at the start or after white space', () => {
    expect(cannedQueryAt('/ref', 4)).toEqual({ query: 'ref', start: 0 });
    expect(cannedQueryAt('hello /退款', 9)).toEqual({ query: '退款', start: 6 });
    expect(cannedQueryAt('/', 1)).toEqual({ query: '', start: 0 });
    expect(cannedQueryAt('see a/b', 7)).toBeNull();
    expect(cannedQueryAt('/ref and more', 13)).toBeNull();
    expect(cannedQueryAt('/ref', 2)).toEqual({ query: 'r', start: 0 });
  });
  it('replaces the /word and puts the cursor after the reply', () => {
    expect(applyCanned('Hi /ref!', 3, 7, 'Refunds take 3 days')).toEqual({ value: 'Hi Refunds take 3 days!', cursor: 22 });
  });
});

const reply = (shortcut: string, text: string, over: Partial<CannedReply> = {}): CannedReply => ({
  id: shortcut,
  shortcut,
  title: shortcut,
  text,
  skillGroup: 'general',
  ownerId: null,
  lang: null,
  updatedBy: 'lead',
  updatedAt: '2026-11-30T00:00:00.000Z',
  ...over,
});

function Composer({ token }: { token: string | null }) {
  const [text, setText] = useState('');
  const [cursor, setCursor] = useState(0);
  const picker = useCannedPicker(text, cursor, token, (next) => {
    setText(next.value);
    setCursor(next.cursor);
  });
  return (
    <>
      <CannedList picker={picker} />
      <textarea
        data-testid="box"
        value={text}
        onChange={(e) => {
          setText(e.target.value);
          setCursor(e.target.selectionStart);
        }}
        onKeyDown={(e) => {
          // As Conversation.tsx's composer: the picker (which leaves an input method's keys alone), then send.
          if (picker.onKeyDown(e)) return;
          if (sendsOnEnter(e)) e.currentTarget.dataset['sent'] = text;
        }}
      />
    </>
  );
}

describe('the composer picker', () => {
  let root: Root | null = null;
  afterEach(() => {
    act(() => root?.unmount());
    root = null;
    document.body.innerHTML = '';
  });
  const asked: string[] = [];
  const api: CannedApi = {
    async search(_token, q) {
      asked.push(q);
      const all = [reply('refund', 'Refunds take 3–5 days.'), reply('hi', 'Hello!', { ownerId: 'u1' })];
      return all.filter((r) => r.shortcut.startsWith(q));
    },
  };
  const mount = async (locale: Locale = 'en', token: string | null = 't') => {
    const host = document.createElement('div');
    document.body.append(host);
    root = createRoot(host);
    await act(async () =>
      root!.render(
        <LocaleProvider locale={locale}>
          <CannedApiContext.Provider value={api}>
            <Composer token={token} />
          </CannedApiContext.Provider>
        </LocaleProvider>,
      ),
    );
    return host.querySelector<HTMLTextAreaElement>('[data-testid="box"]')!;
  };
  const type = async (box: HTMLTextAreaElement, value: string) => {
    const setter = Object.getOwnPropertyDescriptor(HTMLTextAreaElement.prototype, 'value')!.set!;
    await act(async () => {
      setter.call(box, value);
      box.setSelectionRange(value.length, value.length);
      box.dispatchEvent(new Event('input', { bubbles: true }));
    });
    // The search is debounced 120 ms.
    await act(async () => new Promise((r) => setTimeout(r, 200)));
  };
  const key = async (box: HTMLTextAreaElement, k: string, init: KeyboardEventInit = {}) =>
    act(async () => {
      box.dispatchEvent(new KeyboardEvent('keydown', { key: k, bubbles: true, cancelable: true, ...init }));
    });

  it('searches as the agent types /ref, and Enter puts the reply in place of the /word instead of sending', async () => {
    const box = await mount();
    await type(box, 'Sure. /ref');
    expect(asked.at(-1)).toBe('ref');
    const items = [...document.querySelectorAll('[data-testid="canned-item"]')];
    expect(items.map((i) => i.textContent)).toEqual(['/refundrefundRefunds take 3–5 days.']);
    await key(box, 'Enter');
    expect(box.value).toBe('Sure. Refunds take 3–5 days.');
    expect(box.dataset['sent']).toBeUndefined();
    expect(document.querySelector('[data-testid="canned-picker"]')).toBeNull();
  });

  it('moves with the arrows, closes on Esc (Enter then sends), and speaks Chinese', async () => {
    const box = await mount('zh');
    await type(box, '/');
    expect(document.querySelector('.canned__head')?.textContent).toContain('快捷回复');
    expect(document.querySelector('.canned__mine')?.textContent).toBe('我的');
    await key(box, 'ArrowDown');
    expect(document.querySelector('[aria-selected="true"]')?.textContent).toContain('/hi');
    await key(box, 'Escape');
    expect(document.querySelector('[data-testid="canned-picker"]')).toBeNull();
    await key(box, 'Enter');
    expect(box.dataset['sent']).toBe('/');
  });

  it('leaves the Enter that confirms a pinyin candidate to the input method: no canned pick, nothing sent', async () => {
    const box = await mount('zh');
    await type(box, '/ref');
    expect(document.querySelector('[data-testid="canned-picker"]')).not.toBeNull();
    // Chinese IME: Enter while composing confirms the Latin letters typed; WebKit says only keyCode 229.
    await key(box, 'Enter', { isComposing: true });
    await key(box, 'Enter', { keyCode: 229 });
    expect(box.value).toBe('/ref');
    expect(box.dataset['sent']).toBeUndefined();
    expect(document.querySelector('[data-testid="canned-picker"]')).not.toBeNull();
    await key(box, 'Escape');
    await type(box, 'ni hao');
    await key(box, 'Enter', { isComposing: true });
    expect(box.dataset['sent']).toBeUndefined();
    await key(box, 'Enter');
    expect(box.dataset['sent']).toBe('ni hao');
  });

  it('stays closed without a token (note mode) and says when nothing matches', async () => {
    const closed = await mount('en', null);
    await type(closed, '/ref');
    expect(document.querySelector('[data-testid="canned-picker"]')).toBeNull();
    act(() => root?.unmount());
    const box = await mount();
    await type(box, '/zzz');
    expect(document.querySelector('.canned__empty')?.textContent).toBe('No canned reply matches.');
  });
});
