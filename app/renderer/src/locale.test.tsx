// @vitest-environment jsdom
import { act } from 'react';
import { createRoot, type Root } from 'react-dom/client';
import { afterEach, describe, expect, it } from 'vitest';
import { LanguageSwitch } from './components/LanguageSwitch';
import { useLocale } from './context';
import { LOCALE_KEY, createI18n, formatDuration, initialLocale, localeOf } from './locale';
import { LocaleProvider } from './LocaleProvider';
import { resources } from './locales';

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

/** Every key path of a namespace, as `a.b.c`. */
function keys(o: object, prefix = ''): string[] {
  return Object.entries(o).flatMap(([k, v]) => (typeof v === 'string' ? [prefix + k] : keys(v as object, `${prefix}${k}.`)));
}

describe('the UI language (i18next)', () => {
  it('opens in the remembered language, else the OS language, else English', () => {
    const storage = (v: string | null) => ({ getItem: (k: string) => (k === LOCALE_KEY ? v : null) });
    expect(initialLocale(storage('en'), ['zh-CN'])).toBe('en');
    expect(initialLocale(storage(null), ['zh-CN', 'en-US'])).toBe('zh');
    expect(initialLocale(storage(null), ['zh-Hant-TW'])).toBe('zh');
    expect(initialLocale(storage('fr'), ['de-DE', 'en-GB'])).toBe('en');
    expect(initialLocale(storage(null), ['de-DE'])).toBe('en');
    const broken = {
      getItem: () => {
        throw new Error('SecurityError');
      },
    };
    expect(initialLocale(broken, ['zh'])).toBe('zh');
    expect(initialLocale(null, [])).toBe('en');
  });

  it('every namespace has the same keys, non-empty, in Chinese and English', () => {
    for (const ns of Object.keys(resources.en) as (keyof typeof resources.en)[]) {
      const en = keys(resources.en[ns]).sort();
      expect(keys(resources.zh[ns]).sort(), ns).toEqual(en);
      for (const lng of ['en', 'zh'] as const) {
        const i18n = createI18n(lng);
        for (const k of en) expect(i18n.t(k, { ns }), `${lng} ${ns}:${k}`).not.toBe('');
      }
    }
  });

  it('formats durations in the language', () => {
    expect(formatDuration(45, 'en')).toBe('45s');
    expect(formatDuration(12 * 60 + 5, 'en')).toBe('12m');
    expect(formatDuration(3900, 'en')).toBe('1h 5m');
    expect(formatDuration(7200, 'en')).toBe('2h');
    expect(formatDuration(3900, 'zh')).toBe('1小时5分钟');
    expect(formatDuration(-3, 'en')).toBe('0s');
    expect(formatDuration(Number.NaN, 'zh')).toBe('0秒');
    expect(createI18n('zh').t('desk:queue.offerLeft', { value: 65 })).toBe('剩余 1分钟');
    expect(createI18n('en').t('desk:queue.offerLeft', { value: 65 })).toBe('1m left');
  });

  describe('the switch', () => {
    let root: Root | null = null;
    let host: HTMLElement | null = null;
    afterEach(() => {
      act(() => root?.unmount());
      host?.remove();
    });

    it('re-renders translated strings and useLocale() at once', () => {
      const i18n = createI18n('en');
      function Probe() {
        return <output>{useLocale()}</output>;
      }
      host = document.createElement('div');
      document.body.append(host);
      root = createRoot(host);
      act(() =>
        root!.render(
          <LocaleProvider i18n={i18n}>
            <LanguageSwitch />
            <Probe />
          </LocaleProvider>,
        ),
      );
      const select = host.querySelector('select')!;
      expect(select.getAttribute('aria-label')).toBe('Language');
      expect(host.querySelector('output')!.textContent).toBe('en');
      act(() => {
        select.value = 'zh';
        select.dispatchEvent(new Event('change', { bubbles: true }));
      });
      expect(localeOf(i18n)).toBe('zh');
      expect(select.getAttribute('aria-label')).toBe('语言');
      expect(host.querySelector('output')!.textContent).toBe('zh');
    });
  });
});
