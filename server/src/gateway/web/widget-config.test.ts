import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, DEMO_PRE_CHAT, DEFAULT_WIDGET_UPLOAD, loadConfig } from '../../config/config';

const load = (file: string | null, argv: string[] = []) => {
  const env: Record<string, string> = {};
  if (file !== null) {
    const path = join(mkdtempSync(join(tmpdir(), 'huiliu-widget-cfg-')), 'c.yaml');
    writeFileSync(path, file);
    env['HUILIU_CONFIG'] = path;
  }
  return loadConfig({ env, argv, cwd: '/srv/huiliu' });
};

describe('widget.preChat and widget.upload (issue 13)', () => {
  it('has no form and default uploads without config, and the demo form under --demo', () => {
    expect(load(null).widget.preChat).toBeNull();
    expect(load(null).widget.upload).toEqual(DEFAULT_WIDGET_UPLOAD);
    expect(load(null, ['--demo']).widget.preChat).toEqual(DEMO_PRE_CHAT);
  });

  it('reads a form, fills its defaults, and refuses a topic whose skill group does not exist', () => {
    const c = load(
      'widget:\n  preChat:\n    contact: required\n    topics:\n      - {id: billing, label: {en: Billing, zh: 账单}, skillGroup: vip}\n',
    );
    expect(c.widget.preChat).toEqual({
      name: 'optional',
      contact: 'required',
      topics: [{ id: 'billing', label: { en: 'Billing', zh: '账单' }, skillGroup: 'vip' }],
    });
    let error: unknown;
    try {
      load('widget:\n  preChat:\n    topics:\n      - {id: billing, label: {en: B, zh: 账}, skillGroup: nowhere}\n');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toBe('HUILIU_CONFIG field widget.preChat.topics.0.skillGroup: no skill group "nowhere"');
  });

  it('turns uploads off, or narrows them', () => {
    expect(load('widget:\n  upload: {enabled: false}\n').widget.upload).toBeNull();
    expect(load('widget:\n  upload: {maxBytes: 2048, mimes: [application/pdf]}\n').widget.upload).toEqual({
      enabled: undefined,
      maxBytes: 2048,
      mimes: ['application/pdf'],
      idleMs: 15_000,
      visitorBytes: 100 * 1024 * 1024,
      addressBytes: 400 * 1024 * 1024,
    });
    expect(load('widget:\n  upload: {idleMs: 5000, visitorBytes: 4096}\n').widget.upload).toMatchObject({
      idleMs: 5000,
      visitorBytes: 4096,
    });
    expect(() => load('widget:\n  upload: {idleMs: 10}\n')).toThrow(ConfigError);
    expect(() => load('widget:\n  upload: {mimes: [application/x-msdownload]}\n')).toThrow(ConfigError);
  });
});
