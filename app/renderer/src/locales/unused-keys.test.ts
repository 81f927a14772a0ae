import { describe, expect, it } from 'vitest';
import { resources } from './index';

/**
 * Issue 15: a string in `locales/` that no source file asks for is dead weight for translators. Each
 * English key must be named by some non-test source file of the renderer (outside `locales/`) that also
 * names its namespace: as a quoted key (`'top.signOut'`, `'desk:top.signOut'`), or its tail under a
 * quoted `keyPrefix` (`useTranslation('desk', { keyPrefix: 'top' })` + `t('signOut')`). Plurals count
 * by their base (`offlineCount_one` → `offlineCount`). Keys chosen at run time (``t(`statuses.${s}`)``)
 * are allowed by `DYNAMIC` below, each of which must itself be used as a template prefix somewhere.
 */

/** `<ns>:<key prefix>` of keys picked at run time; every entry is checked to appear as `` `<prefix>${ ``. */
const DYNAMIC: readonly string[] = [
  'apps:dead.reasons.',
  'apps:errors.',
  'apps:list.source.',
  'assist:summaryBy.',
  'audit:errors.',
  'audit:outcomes.',
  'audit:targets.',
  'board:channels.',
  'board:errors.',
  'board:presences.',
  'board:statuses.',
  'board:tiers.',
  'board:trouble.',
  'collision:errors.',
  'continuity:channels.',
  'continuity:inSentence.from.',
  'continuity:inSentence.to.',
  'continuity:panel.linkKinds.',
  'continuity:panel.reasons.link.',
  'desk:context.statuses.',
  'desk:conversation.delivery.',
  'desk:conversation.deliveryCodes.',
  'desk:conversation.wrapUpCodes.',
  'desk:customerNames.channels.',
  'desk:emotions.',
  'desk:errors.',
  'desk:queue.handoverReasons.',
  'desk:queue.tiers.',
  'desk:top.link.',
  'desk:top.presences.',
  'errors:codes.',
  'kpis:channels.',
  'kpis:errors.',
  'kpis:ranges.',
  'kpis:tiers.',
  'presence:state.',
  'privacyRequest:kinds.',
  'privacyRequest:page.kinds.',
  'privacyRequest:page.statuses.',
  'routing:codes.',
  'routing:explain.modes.',
  'routing:issues.',
  'routing:factorNames.',
  'routing:reasons.',
  'routing:triggers.',
  'routing:whatIfNotes.',
  'shortcuts:actions.',
  'softphone:consult.',
  'softphone:error.',
  'softphone:registration.',
  'softphone:state.',
  'softphone:tierName.',
  'softphone:transferState.',
  'supervision:errors.',
  'supervision:presences.',
  'supervision:statuses.',
  'transfer:kinds.',
  'transfer:modeName.',
  'transfer:presence.',
];

function keys(o: object, prefix = ''): string[] {
  return Object.entries(o).flatMap(([k, v]) => (typeof v === 'string' ? [prefix + k] : keys(v as object, `${prefix}${k}.`)));
}

/** Whether `text` takes `ns`'s keys under `head` (`useTranslation('<ns>', { keyPrefix: '<head>' })`). */
const prefixed = (text: string, ns: string, head: string) => text.includes(`useTranslation('${ns}', { keyPrefix: '${head}' })`);

/** Whether `text` reads namespace `ns` at all: quoted, as `ns:` in a key, or (desk) through the stores' `deskT`. */
const reads = (text: string, ns: string) =>
  quoted(text, ns) || text.includes(`'${ns}:`) || text.includes(`\`${ns}:`) || (ns === 'desk' && text.includes('deskT('));

const quoted = (text: string, s: string) => text.includes(`'${s}'`) || text.includes(`"${s}"`) || text.includes(`\`${s}\``);

/** The renderer's non-test sources outside `locales/`, read by the bundler (the renderer is a web page: no node:fs here). */
const SOURCES = import.meta.glob<string>(['../**/*.ts', '../**/*.tsx', '!../**/*.test.ts', '!../**/*.test.tsx', '!./**'], {
  query: '?raw',
  import: 'default',
  eager: true,
});
const FILES = Object.entries(SOURCES).map(([path, text]) => ({ path, text }));

/** Whether `file` names key `path` of namespace `ns` (see the module comment). */
function names(text: string, ns: string, path: string): boolean {
  if (quoted(text, `${ns}:${path}`)) return true;
  if (!reads(text, ns)) return false;
  const segs = path.split('.');
  for (let i = 0; i < segs.length; i += 1) {
    const tail = segs.slice(i).join('.');
    // A whole sub-object read at once (`t('panel.unnamed', { returnObjects: true })`).
    if (i > 0 && text.includes('returnObjects') && quoted(text, segs.slice(0, i).join('.'))) return true;
    if (!quoted(text, tail)) continue;
    if (i === 0 || prefixed(text, ns, segs.slice(0, i).join('.'))) return true;
  }
  return false;
}

function dynamic(ns: string, path: string): boolean {
  return DYNAMIC.some((d) => `${ns}:${path}`.startsWith(d));
}

/** Whether `text` builds keys under `prefix` (`a.b.`) of `ns` at run time: `` `a.b.${ `` or its tail under a quoted keyPrefix. */
function builds(text: string, ns: string, prefix: string): boolean {
  if (text.includes(`\`${ns}:${prefix}\${`)) return true;
  if (!reads(text, ns)) return false;
  const segs = prefix.slice(0, -1).split('.');
  for (let i = 0; i < segs.length; i += 1) {
    if (!text.includes(`\`${segs.slice(i).join('.')}.\${`)) continue;
    if (i === 0 || prefixed(text, ns, segs.slice(0, i).join('.'))) return true;
  }
  return false;
}

describe('locale keys', () => {
  it('every English key is used by some source file', () => {
    // The sources are really read: the components, and nothing of locales/ (which names every key).
    expect(FILES.map((f) => f.path)).toContain('../components/privacy/PrivacyPage.tsx');
    expect(FILES.some((f) => f.path.startsWith('./'))).toBe(false);
    const unused: string[] = [];
    for (const [ns, messages] of Object.entries(resources.en)) {
      const all = [...new Set(keys(messages).map((k) => k.replace(/_(zero|one|two|few|many|other)$/, '')))];
      for (const path of all) {
        if (dynamic(ns, path)) continue;
        if (!FILES.some((f) => names(f.text, ns, path))) unused.push(`${ns}:${path}`);
      }
    }
    expect(unused).toEqual([]);
  });

  it('every allowed dynamic prefix is really built at run time', () => {
    for (const d of DYNAMIC) {
      const [ns, prefix] = d.split(':') as [string, string];
      expect(
        FILES.some((f) => builds(f.text, ns, prefix)),
        d,
      ).toBe(true);
    }
  });
});
