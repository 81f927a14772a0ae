import { describe, expect, it } from 'vitest';
import { fixedT } from './i18n-legacy';
import { kpiStrings } from './i18n-kpis';
import { routingStrings } from './i18n-routing';
import { supervisionError, supervisionStrings } from './i18n-supervision';
import { createI18n } from './locale';
import { formatSeconds, formatWait, hasKey, localeTag } from './locale-format';
import { en as appsEn } from './locales/apps';

describe('the admin namespaces (issue 15)', () => {
  it('picks plural forms by count in English and one form in Chinese', () => {
    const en = createI18n('en');
    const zh = createI18n('zh');
    expect(en.t('editor.changes', { ns: 'routing', count: 1, v: 3 })).toBe('1 change from version 3');
    expect(en.t('editor.changes', { ns: 'routing', count: 2, v: 3 })).toBe('2 changes from version 3');
    expect(zh.t('editor.changes', { ns: 'routing', count: 1, v: 3 })).toBe('相对第 3 版有 1 处改动');
    expect(en.t('list.deadLetters', { ns: 'apps', count: 1 })).toBe('1 dead letter');
    expect(en.t('list.deadLetters', { ns: 'apps', count: 4 })).toBe('4 dead letters');
    expect(en.t('load', { ns: 'supervision', count: 1 })).toBe('1 chat');
    expect(zh.t('shown', { ns: 'audit', count: 7 })).toBe('已显示 7 条，最新在前');
  });

  it('formats file sizes, KPI durations and routing waits in the language', () => {
    const en = createI18n('en').getFixedT('en', 'files');
    expect(en('kb', { value: 2048 / 1024 })).toBe('2.0 KB');
    expect(createI18n('zh').getFixedT('zh', 'files')('bytes', { value: 12 })).toBe('12 字节');
    expect(formatSeconds(185, createI18n('zh').getFixedT('zh', 'kpis'))).toBe('3 分 5 秒');
    expect(formatSeconds(3720, createI18n('en').getFixedT('en', 'kpis'))).toBe('1 h 2 min');
    expect(formatSeconds(null, createI18n('en').getFixedT('en', 'kpis'))).toBe('—');
    expect(formatWait(3_725_000)).toBe('1:02:05');
    expect(formatWait(-5)).toBe('0:00');
    expect(localeTag('zh')).toBe('zh-CN');
  });

  it('knows which error codes have words, and no others', () => {
    expect(hasKey(appsEn.errors, 'APP_KEY_NOT_FOUND')).toBe(true);
    expect(hasKey(appsEn.errors, 'toString')).toBe(false);
    expect(hasKey(appsEn.errors, undefined)).toBe(false);
  });

  it('keeps the legacy adapters the desk components read on the same strings', () => {
    expect(routingStrings('zh').shell.until('10:00')).toBe(' · 至 10:00');
    expect(routingStrings('en').context.firstContact).toBe('First contact.');
    expect(kpiStrings('en').sla.title('SLA', '10:00')).toBe('SLA due 10:00 (business hours)');
    expect(supervisionStrings('zh').presenceChangedBy('组长', '离开')).toBe('组长 已将您的状态设为「离开」。');
    expect(supervisionError('en', 'SESSION_CLOSED')).toBe('The conversation is closed.');
    expect(supervisionError('en', 'NOPE')).toBe('That did not work.');
    expect(fixedT('zh', 'board')('group', { id: 'vip' })).toBe('技能组 vip');
  });
});
