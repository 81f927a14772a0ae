import { describe, expect, it } from 'vitest';
import { createI18n, intlTag } from './locale';
import { formatSeconds, formatWait, hasKey } from './locale-format';
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
    const en = createI18n('en').getFixedT('en', 'desk');
    expect(en('file.kb', { value: 2048 / 1024 })).toBe('2.0 KB');
    expect(createI18n('zh').getFixedT('zh', 'desk')('file.bytes', { value: 12 })).toBe('12 字节');
    expect(formatSeconds(185, createI18n('zh').getFixedT('zh', 'kpis'))).toBe('3 分 5 秒');
    expect(formatSeconds(3720, createI18n('en').getFixedT('en', 'kpis'))).toBe('1 h 2 min');
    expect(formatSeconds(null, createI18n('en').getFixedT('en', 'kpis'))).toBe('—');
    expect(formatWait(3_725_000)).toBe('1:02:05');
    expect(formatWait(-5)).toBe('0:00');
    expect(intlTag('zh')).toBe('zh-CN');
  });

  it('knows which error codes have words, and no others', () => {
    expect(hasKey(appsEn.errors, 'APP_KEY_NOT_FOUND')).toBe(true);
    expect(hasKey(appsEn.errors, 'toString')).toBe(false);
    expect(hasKey(appsEn.errors, undefined)).toBe(false);
  });

  it('gives the desk the supervision and board strings it reads through i18next', () => {
    const zh = createI18n('zh');
    expect(zh.t('supervision:presenceChangedBy', { name: '组长', presence: '离开' })).toBe('组长 已将您的状态设为「离开」。');
    expect(createI18n('en').t('supervision:errors.SESSION_CLOSED')).toBe('The conversation is closed.');
    expect(zh.t('board:group', { id: 'vip' })).toBe('技能组 vip');
  });
});
