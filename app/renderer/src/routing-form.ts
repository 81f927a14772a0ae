import type { z } from 'zod';
import { RoutingConfigSchema, type RoutingConfig } from '../../../common/routing/types';
import type { TFunction } from 'i18next';

/**
 * The routing config editor's pure helpers (issue 11): reading and writing a draft by field path,
 * the differences between two configs, and the draft's problems, checked with the same schema the
 * server checks a publish with (common/routing/types.ts RoutingConfigSchema), so the editor refuses
 * exactly what the server would.
 */

/** A field's place in the config, e.g. `['capacity', 'chat']`; joined with dots it names the field. */
export type FieldPath = readonly (string | number)[];

export const pathKey = (path: FieldPath): string => path.join('.');

/** The value at `path` in `obj`, or undefined. */
export function getIn(obj: unknown, path: FieldPath): unknown {
  let at: unknown = obj;
  for (const key of path) {
    if (at === null || typeof at !== 'object') return undefined;
    at = (at as Record<string | number, unknown>)[key];
  }
  return at;
}

/**
 * A copy of `obj` with `value` at `path` (objects on the way are copied, missing ones created);
 * `undefined` removes the key (an array element is removed by index).
 */
export function setIn<T>(obj: T, path: FieldPath, value: unknown): T {
  if (path.length === 0) return value as T;
  const [key, ...rest] = path as [string | number, ...(string | number)[]];
  const source = (obj ?? {}) as Record<string | number, unknown>;
  const copy: Record<string | number, unknown> | unknown[] = Array.isArray(source) ? [...(source as unknown[])] : { ...source };
  const next = rest.length === 0 ? value : setIn(source[key], rest, value);
  if (next === undefined) {
    if (Array.isArray(copy)) copy.splice(Number(key), 1);
    else delete copy[key];
  } else (copy as Record<string | number, unknown>)[key] = next;
  return copy as T;
}

/** One field that differs between two configs: its dotted path and both values (undefined: absent). */
export interface ConfigChange {
  path: string;
  from: unknown;
  to: unknown;
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isLeafArray = (v: unknown): boolean => Array.isArray(v) && v.every((x) => !isPlainObject(x));

function flatten(value: unknown, prefix: string, into: Map<string, unknown>): void {
  if (isPlainObject(value)) {
    for (const [k, v] of Object.entries(value)) flatten(v, prefix ? `${prefix}.${k}` : k, into);
  } else if (Array.isArray(value) && !isLeafArray(value)) {
    value.forEach((v, i) => flatten(v, `${prefix}.${i}`, into));
  } else into.set(prefix, value);
}

// A group's `fallback: null` and no fallback at all mean the same: no change.
const same = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

/** Every field that differs from `base` to `next`, in `next`'s order then removed ones; `version` is not a change. */
export function diffConfigs(base: RoutingConfig, next: RoutingConfig): ConfigChange[] {
  const a = new Map<string, unknown>();
  const b = new Map<string, unknown>();
  flatten(base, '', a);
  flatten(next, '', b);
  a.delete('version');
  b.delete('version');
  const changes: ConfigChange[] = [];
  for (const [path, to] of b) if (!same(a.get(path), to)) changes.push({ path, from: a.get(path), to });
  for (const [path, from] of a) if (!b.has(path) && !same(from, undefined)) changes.push({ path, from, to: undefined });
  return changes;
}

/** A problem with the draft, on one field (or a group of fields: `weights`, `widening.expert`). */
export interface DraftIssue {
  path: string;
  /** The text to show, in the page's language. */
  text: string;
}

/**
 * How a field is shown, relative to how it is stored: milliseconds as seconds, shares as percent.
 * Limits in messages are shown in the field's unit.
 */
export const DISPLAY_FACTOR: Record<string, number> = {
  offerTimeoutMs: 1 / 1000,
  reassignAfterMs: 1 / 1000,
  'serviceLevel.target': 100,
};

/** The routing namespace's translate function (react-i18next). */
type Tr = TFunction<'routing'>;

const round = (n: number) => Math.round(n * 1000) / 1000;

const KNOWN_CUSTOM: Record<string, 'weightsSum' | 'thresholdsOrder' | 'firstRing' | 'ringOrder' | 'selfFallback'> = {
  'weights.value + weights.difficulty must be 1': 'weightsSum',
  'thresholds.expert must be above thresholds.assisted': 'thresholdsOrder',
  'the first ring starts at afterSeconds 0': 'firstRing',
  'rings must be in increasing afterSeconds order': 'ringOrder',
  'a skill group cannot fall back to itself': 'selfFallback',
};

/** A schema issue in words of the page's language (limits in the field's unit). */
export function issueText(issue: z.core.$ZodIssue, t: Tr): string {
  const factor = DISPLAY_FACTOR[pathKey(issue.path as (string | number)[])] ?? 1;
  switch (issue.code) {
    case 'too_small':
      if (issue.origin === 'array') return t('issues.tooFew', { n: Number(issue.minimum) });
      return issue.inclusive === false
        ? t('issues.above', { n: round(Number(issue.minimum) * factor) })
        : t('issues.min', { n: round(Number(issue.minimum) * factor) });
    case 'too_big':
      if (issue.origin === 'array') return t('issues.tooMany', { n: Number(issue.maximum) });
      return t('issues.max', { n: round(Number(issue.maximum) * factor) });
    case 'invalid_type':
      return issue.expected === 'int' ? t('issues.integer') : t('issues.number');
    case 'custom': {
      const known = KNOWN_CUSTOM[issue.message];
      return known ? t(`issues.${known}`) : issue.message;
    }
    default:
      return issue.message;
  }
}

/**
 * The draft's problems, as the server's RoutingConfigSchema sees them. The schema checks the
 * cross-field rules (weights sum, thresholds order, a group's own fallback) only once every field is
 * well-formed; they are checked here as well, so an admin sees every problem at once.
 */
export function validateDraft(draft: RoutingConfig, t: Tr): DraftIssue[] {
  const issues: DraftIssue[] = [];
  const add = (path: string, text: string) => {
    if (!issues.some((i) => i.path === path && i.text === text)) issues.push({ path, text });
  };
  const parsed = RoutingConfigSchema.safeParse(draft);
  if (!parsed.success) for (const issue of parsed.error.issues) add(pathKey(issue.path as (string | number)[]), issueText(issue, t));
  const w = draft.weights;
  if (Number.isFinite(w.value) && Number.isFinite(w.difficulty) && Math.abs(w.value + w.difficulty - 1) >= 1e-9)
    add('weights', t('issues.weightsSum'));
  const th = draft.thresholds;
  if (Number.isFinite(th.expert) && Number.isFinite(th.assisted) && !(th.expert > th.assisted))
    add('thresholds', t('issues.thresholdsOrder'));
  for (const [id, g] of Object.entries(draft.skillGroups))
    if (g.fallback === id) add(`skillGroups.${id}.fallback`, t('issues.selfFallback'));
  return issues;
}

/** Server issues name the request body's field (`config.thresholds.expert`); the editor names the config's. */
export const configPath = (serverPath: string): string => serverPath.replace(/^config\./, '');

/** A field's name for the problem list and the change list, in the page's language. */
export function fieldLabel(path: string, t: Tr): string {
  const fixed: Record<string, string> = {
    weights: t('editor.weights'),
    'weights.value': t('editor.valueWeight'),
    'weights.difficulty': t('editor.difficultyWeight'),
    thresholds: t('editor.thresholds'),
    'thresholds.expert': t('editor.expertAbove'),
    'thresholds.assisted': t('editor.assistedAbove'),
    'value.spendCap': t('editor.spendCap'),
    'value.frequencyCap': t('editor.frequencyCap'),
    'value.factorWeights.spend': t('editor.spendWeight'),
    'value.factorWeights.satisfaction': t('editor.satisfactionWeight'),
    'value.factorWeights.frequency': t('editor.frequencyWeight'),
    offerTimeoutMs: t('editor.offerTimeout'),
    reassignAfterMs: t('editor.reassignAfter'),
    'capacity.chat': t('editor.chatCapacity'),
    'capacity.voice': t('editor.voiceCapacity'),
    'capacity.chatsDuringVoice': t('editor.chatsDuringVoice'),
    'afterCallWorkSeconds.chat': t('editor.acwChat'),
    'afterCallWorkSeconds.voice': t('editor.acwVoice'),
    'aging.pointsPerMinute': t('editor.pointsPerMinute'),
    'aging.maxBoost': t('editor.maxBoost'),
    defaultProficiency: t('editor.defaultProficiency'),
    'serviceLevel.thresholdSeconds': t('editor.slThreshold'),
    'serviceLevel.target': t('editor.slTarget'),
  };
  if (fixed[path]) return fixed[path];
  const ring = /^widening\.(expert|assisted|ai)(?:\.(\d+)(?:\.(\w+))?)?$/.exec(path);
  if (ring) {
    const tier = t('editor.ringsFor', { tier: t(`tiers.${ring[1] as 'expert' | 'assisted' | 'ai'}`) });
    if (ring[2] === undefined) return `${t('editor.sections.widening')} · ${tier}`;
    const field: Record<string, string> = {
      afterSeconds: t('editor.afterSeconds'),
      minProficiency: t('editor.minProficiency'),
      addFallback: t('editor.addFallback'),
      addSkillGroups: t('editor.addSkillGroups'),
    };
    return `${tier} · ${t('editor.ringCol')} ${Number(ring[2]) + 1}${ring[3] ? ` · ${field[ring[3]] ?? ring[3]}` : ''}`;
  }
  const group = /^skillGroups\.([^.]+)(?:\.(fallback|proficiency)(?:\.(.+))?)?$/.exec(path);
  if (group) {
    if (group[2] === 'fallback') return `${group[1]} · ${t('editor.fallback')}`;
    if (group[2] === 'proficiency') return `${group[1]} · ${group[3] ?? t('editor.proficiencyCol')}`;
    return `${t('editor.group')} ${group[1]}`;
  }
  return path;
}

/** A config value for the change list: numbers as they are, shares in percent where the field shows them so. */
export function showValue(path: string, value: unknown): string {
  if (value === undefined) return '—';
  if (typeof value === 'number') return String(round(value * (DISPLAY_FACTOR[path] ?? 1)));
  if (Array.isArray(value)) return value.length ? value.join(', ') : '—';
  if (value === null) return '—';
  return String(value);
}
