/// <reference types="vite/client" />
import { describe, expect, it } from 'vitest';

/**
 * Guard (issue 15): the lead/admin/auditor pages show no hand-written English. Scans their component
 * files for user-visible literals with Latin letters — JSX text between tags, and string literals given
 * to `aria-label`, `title`, `placeholder`, `alt` or `label` — that do not go through `t()`. What may stay
 * is in ALLOWED, each with its reason. (The sources are read through Vite's glob import: the renderer,
 * its tests included, takes no Node built-ins.)
 */
const SOURCES = import.meta.glob<string>(
  [
    './routing/*.tsx',
    './apps/*.tsx',
    './audit/*.tsx',
    './board/*.tsx',
    './kpis/*.tsx',
    './supervision/*.tsx',
    './privacy/*.tsx',
    './FileMessage.tsx',
    '!./**/*.test.tsx',
  ],
  { query: '?raw', import: 'default', eager: true },
);
const FILES = Object.keys(SOURCES).sort();

/** Literals that are not words of a language, per file-independent reason. */
const ALLOWED: { text: RegExp; why: string }[] = [
  // Routing config versions are written `v3` in both languages (the version number's own notation).
  { text: /^v$/, why: 'version prefix before {ver.version}' },
  // A session id's format hint: channel codes are identifiers, the same in every language.
  { text: /^WB… \/ AP…$/, why: 'session id example (channel codes)' },
  // Units and notation that read the same in zh and en.
  { text: /^(\/ 5|ms|%|CSV|SLA|AI|P\d*|#)$/, why: 'unit or acronym used as is in both languages' },
  // The webhook URL field's placeholder is the scheme the server requires, not a word.
  { text: /^https:\/\/$/, why: 'URL scheme placeholder' },
];

/** Strips comments, so docs in JSX comments are not taken for text. */
const uncomment = (src: string) => src.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');

/** The Latin-letter literals of a component file a user would see, untranslated. */
export function untranslated(src: string): string[] {
  const code = uncomment(src);
  const found: string[] = [];
  // JSX text: between `>` and `<` (or `{`), not inside an expression.
  for (const m of code.matchAll(/>([^<>{}]*[A-Za-z][^<>{}]*)(?=[<{])/g)) {
    const text = m[1]!.trim();
    // Not JSX text: an arrow (`=>`), a comparison or generic in code (`a > b`, `Array<T>`): code has `;`, `=`, `(`, `&&`, `||`, `?`.
    if (code[m.index! - 1] === '=' || /[;=()?]|&&|\|\|/.test(text)) continue;
    found.push(text);
  }
  // Attributes people read.
  for (const m of code.matchAll(/\b(aria-label|title|placeholder|alt|label)=(?:"([^"]*)"|\{'([^']*)'\}|\{`([^`$]*)`\})/g)) {
    const text = (m[2] ?? m[3] ?? m[4] ?? '').trim();
    if (/[A-Za-z]/.test(text)) found.push(text);
  }
  return found.filter((t) => !ALLOWED.some((a) => a.text.test(t)));
}

describe('the lead/admin/auditor pages go through i18next', () => {
  it('scans every page of the lead/admin/auditor views', () => {
    expect(FILES.length).toBeGreaterThanOrEqual(15);
    expect(FILES).toContain('./routing/ConfigEditor.tsx');
    expect(FILES).toContain('./privacy/PrivacyPage.tsx');
  });

  it.each(FILES)('%s has no hand-written English', (file) => {
    expect(untranslated(SOURCES[file]!)).toEqual([]);
  });

  it('the guard catches JSX text and attributes, and lets t() through', () => {
    expect(untranslated(`<p>Loading…</p>`)).toEqual(['Loading…']);
    expect(untranslated(`<input placeholder="username" aria-label={'Find'} />`)).toEqual(['username', 'Find']);
    expect(untranslated(`<p>{t('loading')}</p><span>{n} ms</span>`)).toEqual([]);
    expect(untranslated(`<td>v{ver.version}</td>`)).toEqual([]);
  });
});
