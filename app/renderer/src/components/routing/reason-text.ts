import type { TFunction } from 'i18next';
import type { ReasonText } from '../../../../../common/routing/types';
import { formatDuration, type Locale } from '../../locale';
import { formatNumber, hasKey } from '../../locale-format';
import { en } from '../../locales/routing';
import { en as desk } from '../../locales/desk';

/** The routing namespace's translate function (react-i18next). */
type Tr = TFunction<'routing'>;

/** Whether `routing:reasons.<code>` exists, as a plain key or as plural forms. */
export const knownReason = (code: string): boolean => hasKey(en.reasons, code) || hasKey(en.reasons, `${code}_other`);

/**
 * The interpolation values of one phrase's `params` in `locale` (issue 15): `count` stays a number
 * (it picks the plural form), a key ending `Ms` becomes a duration in words under the key without
 * `Ms` (`idleMs: 125000` → `idle: "2m"` / `"2分钟"`, `formatDuration`), other numbers get the
 * language's separators (`formatNumber`, 2 decimals at most), tiers, emotion labels and transfer
 * modes (`mode`: warm / cold) are translated,
 * other strings (skill-group and model ids) pass as they are.
 */
export function reasonParams(params: ReasonText['params'], t: Tr, locale: Locale): Record<string, string | number> {
  const out: Record<string, string | number> = {};
  for (const [key, v] of Object.entries(params ?? {})) {
    if (typeof v === 'number') {
      if (key === 'count') out[key] = v;
      else if (key.endsWith('Ms')) out[key.slice(0, -2)] = formatDuration(v / 1000, locale);
      else out[key] = formatNumber(v, locale, 2);
    } else if (/^(tier|fromTier|toTier)$/.test(key) && hasKey(en.tiers, v)) out[key] = t(`tiers.${v}`);
    else if (key === 'emotion' && hasKey(desk.emotions, v)) out[key] = t(`emotions.${v}`, { ns: 'desk' });
    else if (key === 'mode' && hasKey(en.explain.modes, v)) out[key] = t(`explain.modes.${v}`);
    else out[key] = v;
  }
  return out;
}

/**
 * One explanation phrase in the current language: `routing:reasons.<code>` with its params when the
 * code is known, else `fallback` (the server's English, for codes newer than this client or phrases
 * stored before issue 15).
 */
export function reasonText(r: { code?: string; params?: ReasonText['params'] }, fallback: string, t: Tr, locale: Locale): string {
  if (!r.code || !knownReason(r.code)) return fallback;
  // The key is dynamic (server codes; `knownReason` checked it): i18next's typed keys cannot name it.
  const tr = t as unknown as (key: string, options: Record<string, string | number>) => string;
  return tr(`reasons.${r.code}`, reasonParams(r.params, t, locale));
}

/**
 * Several phrases joined with "; " (a candidate's reasons, a decision's assignment). Falls back to
 * `fallback` (the English) as a whole when any phrase is unknown, so a line never mixes languages
 * unevenly; also when `details` is absent (older decisions).
 */
export function reasonsText(details: readonly ReasonText[] | undefined, fallback: string, t: Tr, locale: Locale): string {
  if (!details || details.length === 0 || !details.every((d) => knownReason(d.code))) return fallback;
  return details.map((d) => reasonText(d, '', t, locale)).join(locale === 'zh' ? '；' : '; ');
}

/** A score factor's name in the current language (`routing:factorNames.*`); an unknown id (the language core's own) as it is. */
export function factorName(factor: string, t: Tr): string {
  const key = factor.replace(/\./g, '-');
  return hasKey(en.factorNames, key) ? t(`factorNames.${key}`) : factor;
}
