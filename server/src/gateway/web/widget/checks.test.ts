import { describe, expect, it } from 'vitest';
import { checkUpload, classifyContact } from './checks';
import { formatBytes, pickLang, STRINGS } from './strings';

describe('the widget pre-chat contact field', () => {
  it('reads an e-mail address or a phone number and refuses anything else', () => {
    expect(classifyContact('  li.na@example.com ')).toEqual({ email: 'li.na@example.com' });
    expect(classifyContact('+86 138-0013-8000')).toEqual({ phone: '+8613800138000' });
    expect(classifyContact('(030) 1234 567')).toEqual({ phone: '0301234567' });
    expect(classifyContact('')).toBe('empty');
    expect(classifyContact('   ')).toBe('empty');
    expect(classifyContact('li.na@example')).toBe('invalid');
    expect(classifyContact('a b@example.com')).toBe('invalid');
    expect(classifyContact('1234')).toBe('invalid');
    expect(classifyContact('call me maybe')).toBe('invalid');
    expect(classifyContact('1'.repeat(21))).toBe('invalid');
  });
});

describe('the widget upload check', () => {
  const limits = { maxBytes: 1024 * 1024, mimes: ['image/png', 'image/jpeg', 'application/pdf'] };
  it('passes an accepted type within the size and names what is wrong otherwise', () => {
    expect(checkUpload({ size: 1000, type: 'image/png' }, limits)).toBe('ok');
    expect(checkUpload({ size: 1024 * 1024, type: 'application/pdf' }, limits)).toBe('ok');
    expect(checkUpload({ size: 1024 * 1024 + 1, type: 'image/jpeg' }, limits)).toBe('too-large');
    expect(checkUpload({ size: 10, type: 'application/x-msdownload' }, limits)).toBe('type');
    expect(checkUpload({ size: 10, type: '' }, limits)).toBe('type');
    expect(checkUpload({ size: 10, type: 'image/png' }, null)).toBe('off');
  });
});

describe('the widget language', () => {
  it('takes the loader override first, then the browser language, and falls back to English', () => {
    expect(pickLang(null, 'zh-CN')).toBe('zh');
    expect(pickLang(null, 'zh-TW')).toBe('zh');
    expect(pickLang(null, 'de-DE')).toBe('en');
    expect(pickLang('en', 'zh-CN')).toBe('en');
    expect(pickLang('zh', 'en-US')).toBe('zh');
    expect(pickLang('fr', 'zh-CN')).toBe('zh');
    expect(STRINGS.zh.htmlLang).toBe('zh-CN');
  });
  it('has every string in both languages', () => {
    expect(Object.keys(STRINGS.zh).sort()).toEqual(Object.keys(STRINGS.en).sort());
  });
  it('writes sizes in B, KB and MB', () => {
    expect(formatBytes(900)).toBe('900 B');
    expect(formatBytes(12 * 1024)).toBe('12 KB');
    expect(formatBytes(5 * 1024 * 1024)).toBe('5 MB');
    expect(formatBytes(3.4 * 1024 * 1024)).toBe('3.4 MB');
  });
});
