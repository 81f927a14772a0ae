import { describe, expect, it } from 'vitest';
import { PLACEHOLDER_NAMES, UNKNOWN_CUSTOMER, placeholderName, placeholderOf } from '../../../common/message/placeholder-names';
import { customerNameText } from './customer-name';
import { createI18n } from './locale';

describe("the server's placeholder customer names in the UI language", () => {
  it('recognises exactly the names the server gives (and no real name)', () => {
    expect(placeholderName('WB')).toBe('Web visitor');
    expect(placeholderName('SP')).toBe('SP customer');
    expect(placeholderOf('Web visitor')).toEqual({ kind: 'channel', channel: 'WB' });
    expect(placeholderOf('SP customer')).toEqual({ kind: 'channel', channel: 'SP' });
    expect(placeholderOf(UNKNOWN_CUSTOMER)).toEqual({ kind: 'unknown' });
    expect(placeholderOf('Chen Jing')).toBeNull();
    expect(placeholderOf('web visitor')).toBeNull();
    expect(placeholderOf('A Web visitor')).toBeNull();
  });

  it('words each placeholder in Chinese and English, and leaves real names alone', () => {
    const zh = createI18n('zh');
    const en = createI18n('en');
    expect(customerNameText(zh, 'Web visitor')).toBe('网页访客');
    expect(customerNameText(zh, 'WeChat user')).toBe('微信用户');
    expect(customerNameText(zh, UNKNOWN_CUSTOMER)).toBe('未知客户');
    expect(customerNameText(zh, 'SP customer')).toBe('来电客户');
    expect(customerNameText(en, 'Web visitor')).toBe('Web visitor');
    expect(customerNameText(en, 'Unknown customer')).toBe('Unknown customer');
    expect(customerNameText(zh, 'Chen Jing')).toBe('Chen Jing');
    for (const name of Object.values(PLACEHOLDER_NAMES)) expect(customerNameText(zh, name), name).toMatch(/[\u4e00-\u9fff]/);
  });
});
