import { useState } from 'react';
import type { UserView } from '../../../../../common/api/auth';
import type { RoutingConfig, Tier, WideningRing } from '../../../../../common/routing/types';
import type { ConfigChange } from '../../routing-form';
import { useAdmin, useEditor } from './admin-context';
import { CheckField, ChoiceField, FieldIssues, NumField, Section } from './fields';
import type { TFunction } from 'i18next';
import { useTranslation } from 'react-i18next';

/** The routing namespace's translate function (react-i18next). */
type Tr = TFunction<'routing'>;

const TIERS: readonly Tier[] = ['expert', 'assisted', 'ai'];
const LEVELS = [1, 2, 3, 4, 5] as const;

/** Which config paths each section holds (for its changed and problem counts). */
const SECTION_PATHS = {
  tiers: ['weights', 'thresholds'],
  value: ['value'],
  capacity: ['capacity'],
  timers: ['offerTimeoutMs', 'reassignAfterMs', 'afterCallWorkSeconds'],
  aging: ['aging'],
  skills: ['defaultProficiency', 'skillGroups'],
  widening: ['widening'],
  serviceLevel: ['serviceLevel'],
} as const;
type SectionId = keyof typeof SECTION_PATHS;

const inSection = (id: SectionId, path: string) => SECTION_PATHS[id].some((p) => path === p || path.startsWith(`${p}.`));

const round6 = (n: number) => Math.round(n * 1e6) / 1e6;

function Weights({ t }: { t: Tr }) {
  const weights = useAdmin((s) => s.draft!.weights);
  const edit = useAdmin((s) => s.edit);
  const { readOnly } = useEditor();
  const v = Number.isFinite(weights.value) ? weights.value : 0;
  return (
    <div className="weights">
      <div className="weights__slider">
        <span className="weights__end">
          {t('editor.valueWeight')} <strong>{round6(v)}</strong>
        </span>
        <input
          type="range"
          min={0}
          max={1}
          step={0.05}
          value={v}
          disabled={readOnly}
          aria-label={t('editor.weightSlider')}
          data-testid="weight-slider"
          // One slider keeps the two weights summing to 1 (the schema's rule).
          onChange={(e) => {
            const value = Number(e.target.value);
            edit(['weights', 'value'], value);
            edit(['weights', 'difficulty'], round6(1 - value));
          }}
        />
        <span className="weights__end">
          {t('editor.difficultyWeight')} <strong>{Number.isFinite(weights.difficulty) ? round6(weights.difficulty) : '—'}</strong>
        </span>
      </div>
      <div className="row">
        <NumField path={['weights', 'value']} label={t('editor.valueWeight')} min={0} max={1} step={0.05} />
        <NumField path={['weights', 'difficulty']} label={t('editor.difficultyWeight')} min={0} max={1} step={0.05} />
      </div>
      <p className="field__hint">{t('editor.weightsHint')}</p>
      <FieldIssues path={['weights']} />
    </div>
  );
}

/** The priority scale 0–100 cut into the three tiers by the draft's thresholds. */
function TierBar({ t }: { t: Tr }) {
  const { expert, assisted } = useAdmin((s) => s.draft!.thresholds);
  const clamp = (n: number) => (Number.isFinite(n) ? Math.min(100, Math.max(0, n)) : 0);
  const a = clamp(assisted);
  const e = Math.max(a, clamp(expert));
  return (
    <div className="tierbar" aria-hidden="true">
      <span className="tierbar__seg tier--ai" style={{ width: `${a}%` }}>
        {a >= 12 ? t('tiers.ai') : ''}
      </span>
      <span className="tierbar__seg tier--assisted" style={{ width: `${e - a}%` }}>
        {e - a >= 12 ? t('tiers.assisted') : ''}
      </span>
      <span className="tierbar__seg tier--expert" style={{ width: `${100 - e}%` }}>
        {100 - e >= 12 ? t('tiers.expert') : ''}
      </span>
    </div>
  );
}

/** Members of a skill group: its agents and leads on record, and anyone with a proficiency entry. */
function membersOf(
  group: string,
  staff: readonly UserView[],
  config: RoutingConfig,
): { username: string; name: string; expert: boolean }[] {
  const listed = Object.keys(config.skillGroups[group]?.proficiency ?? {});
  const people = staff.filter((u) => u.skillGroups.includes(group) && u.roles.some((r) => r === 'agent' || r === 'lead'));
  const rows = people.map((u) => ({ username: u.username, name: u.displayName, expert: u.expert }));
  for (const username of listed) if (!rows.some((r) => r.username === username)) rows.push({ username, name: username, expert: false });
  return rows.sort((a, b) => a.username.localeCompare(b.username));
}

function SkillGroup({ group, groups, t }: { group: string; groups: string[]; t: Tr }) {
  const staff = useAdmin((s) => s.staff);
  const draft = useAdmin((s) => s.draft!);
  const edit = useAdmin((s) => s.edit);
  const { readOnly } = useEditor();
  const [adding, setAdding] = useState('');
  const members = membersOf(group, staff, draft);
  const configured = draft.skillGroups[group] !== undefined;
  // A group with no entry yet gets one (no fallback, no proficiency) before its first change.
  const ensure = () => {
    if (!configured) edit(['skillGroups', group], { fallback: null, proficiency: {} });
  };
  return (
    <div className="sg" data-testid="skill-group" data-group={group}>
      <div className="sg__head">
        <strong>{group}</strong>
        <ChoiceField
          path={['skillGroups', group, 'fallback']}
          label={t('editor.fallback')}
          options={[{ value: null, label: t('editor.none') }, ...groups.map((g) => ({ value: g, label: g }))]}
          onPick={(value) => {
            ensure();
            edit(['skillGroups', group, 'fallback'], value);
          }}
        />
      </div>
      {members.length === 0 ? (
        <p className="muted small">{t('editor.noMembers')}</p>
      ) : (
        <table className="sg__members">
          <thead>
            <tr>
              <th>{t('editor.agentCol')}</th>
              <th>{t('editor.proficiencyCol')}</th>
            </tr>
          </thead>
          <tbody>
            {members.map((m) => (
              <tr key={m.username}>
                <td>
                  <bdi dir="auto">{m.name}</bdi> <span className="muted small">{m.username}</span>
                  {m.expert ? <span className="muted small"> · {t('editor.expertCounts')}</span> : null}
                </td>
                <td>
                  <ChoiceField
                    bare
                    path={['skillGroups', group, 'proficiency', m.username]}
                    label={`${group} · ${m.username} · ${t('editor.proficiencyCol')}`}
                    options={[
                      { value: null, label: t('editor.defaultLevel', { n: draft.defaultProficiency }) },
                      ...LEVELS.map((n) => ({ value: n, label: String(n) })),
                    ]}
                    onPick={(value) => {
                      ensure();
                      edit(['skillGroups', group, 'proficiency', m.username], value === null ? undefined : value);
                    }}
                  />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {readOnly ? null : (
        <form
          className="sg__add"
          onSubmit={(ev) => {
            ev.preventDefault();
            const username = adding.trim();
            if (!username) return;
            ensure();
            edit(['skillGroups', group, 'proficiency', username], draft.defaultProficiency);
            setAdding('');
          }}
        >
          <input
            value={adding}
            onChange={(ev) => setAdding(ev.target.value)}
            placeholder={t('editor.addAgentPlaceholder')}
            aria-label={`${group} · ${t('editor.addAgentPlaceholder')}`}
          />
          <button type="submit" className="ghost small-btn" disabled={!adding.trim()}>
            {t('editor.addAgent')}
          </button>
        </form>
      )}
    </div>
  );
}

function SkillGroups({ t, groups }: { t: Tr; groups: string[] }) {
  const edit = useAdmin((s) => s.edit);
  const { readOnly } = useEditor();
  const [adding, setAdding] = useState('');
  return (
    <>
      <ChoiceField
        path={['defaultProficiency']}
        label={t('editor.defaultProficiency')}
        options={LEVELS.map((n) => ({ value: n, label: String(n) }))}
        hint={t('editor.proficiencyHint')}
      />
      {groups.map((g) => (
        <SkillGroup key={g} group={g} groups={groups.filter((x) => x !== g)} t={t} />
      ))}
      {readOnly ? null : (
        <form
          className="sg__add"
          onSubmit={(ev) => {
            ev.preventDefault();
            const id = adding.trim();
            if (!id || groups.includes(id)) return;
            edit(['skillGroups', id], { fallback: null, proficiency: {} });
            setAdding('');
          }}
        >
          <input
            value={adding}
            onChange={(ev) => setAdding(ev.target.value)}
            placeholder={t('editor.addGroupPlaceholder')}
            aria-label={t('editor.addGroupPlaceholder')}
          />
          <button type="submit" className="ghost small-btn" disabled={!adding.trim() || groups.includes(adding.trim())}>
            {t('editor.addGroup')}
          </button>
        </form>
      )}
    </>
  );
}

function Rings({ tier, groups, t }: { tier: Tier; groups: string[]; t: Tr }) {
  const rings = useAdmin((s) => s.draft!.widening[tier]);
  const edit = useAdmin((s) => s.edit);
  const { readOnly } = useEditor();
  const add = () => {
    const last = rings[rings.length - 1];
    const ring: WideningRing = { afterSeconds: (last?.afterSeconds ?? 0) + 60, minProficiency: 1, addSkillGroups: [], addFallback: false };
    edit(['widening', tier], [...rings, ring]);
  };
  return (
    <div className="rings" data-testid={`rings-${tier}`}>
      <div className="rings__head">
        <span className={`tier tier--${tier}`}>{t(`tiers.${tier}`)}</span>
        <FieldIssues path={['widening', tier]} />
      </div>
      <table>
        <thead>
          <tr>
            <th>{t('editor.ringCol')}</th>
            <th>{t('editor.afterSeconds')}</th>
            <th>{t('editor.minProficiency')}</th>
            <th>{t('editor.addFallback')}</th>
            <th>{t('editor.addSkillGroups')}</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {rings.map((ring, i) => (
            <tr key={i}>
              <td className="num">{i + 1}</td>
              <td>
                <NumField
                  bare
                  path={['widening', tier, i, 'afterSeconds']}
                  label={`${t('editor.ringsFor', { tier: t(`tiers.${tier}`) })} ${i + 1} · ${t('editor.afterSeconds')}`}
                  min={0}
                />
              </td>
              <td>
                <ChoiceField
                  bare
                  path={['widening', tier, i, 'minProficiency']}
                  label={`${t('editor.ringsFor', { tier: t(`tiers.${tier}`) })} ${i + 1} · ${t('editor.minProficiency')}`}
                  options={LEVELS.map((n) => ({ value: n, label: `≥ ${n}` }))}
                />
              </td>
              <td>
                <CheckField
                  bare
                  path={['widening', tier, i, 'addFallback']}
                  label={`${t('editor.ringsFor', { tier: t(`tiers.${tier}`) })} ${i + 1} · ${t('editor.addFallback')}`}
                />
              </td>
              <td>
                <div className="rings__groups">
                  {groups.length === 0
                    ? '—'
                    : groups.map((g) => {
                        const on = ring.addSkillGroups.includes(g);
                        return (
                          <label key={g} className={on ? 'toggle toggle--on' : 'toggle'}>
                            <input
                              type="checkbox"
                              checked={on}
                              disabled={readOnly}
                              onChange={() =>
                                edit(
                                  ['widening', tier, i, 'addSkillGroups'],
                                  on ? ring.addSkillGroups.filter((x) => x !== g) : [...ring.addSkillGroups, g],
                                )
                              }
                            />
                            {g}
                          </label>
                        );
                      })}
                </div>
              </td>
              <td>
                {readOnly ? null : (
                  <button
                    type="button"
                    className="ghost icon-btn"
                    title={t('editor.removeRing')}
                    aria-label={`${t('editor.removeRing')} ${i + 1}`}
                    disabled={rings.length <= 1}
                    onClick={() => edit(['widening', tier, i], undefined)}
                  >
                    ×
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {readOnly ? null : (
        <button type="button" className="ghost small-btn" onClick={add} disabled={rings.length >= 10}>
          + {t('editor.addRing')}
        </button>
      )}
    </div>
  );
}

/**
 * The routing config editor (issue 11): every setting of RoutingConfigSchema in folding sections,
 * each field marked when it differs from the version in force and with its problems next to it.
 * Read only (disabled) for leads and auditors.
 */
export function ConfigEditor({ changes }: { changes: readonly ConfigChange[] }) {
  const { t } = useTranslation('routing');
  const { issues, readOnly } = useEditor();
  const staff = useAdmin((s) => s.staff);
  const configured = useAdmin((s) => Object.keys(s.draft!.skillGroups).join('\n'));
  const groups = [...new Set([...configured.split('\n').filter(Boolean), ...staff.flatMap((u) => u.skillGroups)])].sort();
  const counts = (id: SectionId) => ({
    changed: changes.filter((c) => inSection(id, c.path)).length,
    problems: [...issues.keys()].filter((p) => inSection(id, p)).length,
  });
  return (
    <fieldset className="editor" disabled={readOnly} data-testid="config-editor">
      <Section title={t('editor.sections.tiers')} {...counts('tiers')} testId="section-tiers">
        <h4>{t('editor.weights')}</h4>
        <Weights t={t} />
        <h4>{t('editor.thresholds')}</h4>
        <TierBar t={t} />
        <div className="row">
          <NumField path={['thresholds', 'assisted']} label={t('editor.assistedAbove')} min={0} max={100} />
          <NumField path={['thresholds', 'expert']} label={t('editor.expertAbove')} min={0} max={100} />
        </div>
        <FieldIssues path={['thresholds']} />
      </Section>
      <Section title={t('editor.sections.value')} {...counts('value')}>
        <p className="field__hint">{t('editor.factorWeightsHint')}</p>
        <div className="row">
          <NumField path={['value', 'factorWeights', 'spend']} label={t('editor.spendWeight')} min={0} step={0.05} />
          <NumField path={['value', 'factorWeights', 'satisfaction']} label={t('editor.satisfactionWeight')} min={0} step={0.05} />
          <NumField path={['value', 'factorWeights', 'frequency']} label={t('editor.frequencyWeight')} min={0} step={0.05} />
        </div>
        <div className="row">
          <NumField path={['value', 'spendCap']} label={t('editor.spendCap')} min={0} step={1000} />
          <NumField path={['value', 'frequencyCap']} label={t('editor.frequencyCap')} min={1} />
        </div>
      </Section>
      <Section title={t('editor.sections.capacity')} {...counts('capacity')}>
        <div className="row">
          <NumField path={['capacity', 'chat']} label={t('editor.chatCapacity')} min={1} max={20} />
          <ChoiceField
            path={['capacity', 'voice']}
            label={t('editor.voiceCapacity')}
            options={[
              { value: 0, label: '0' },
              { value: 1, label: '1' },
            ]}
          />
          <NumField
            path={['capacity', 'chatsDuringVoice']}
            label={t('editor.chatsDuringVoice')}
            min={0}
            max={20}
            hint={t('editor.chatsDuringVoiceHint')}
          />
        </div>
      </Section>
      <Section title={t('editor.sections.timers')} {...counts('timers')}>
        <div className="row">
          <NumField path={['offerTimeoutMs']} label={t('editor.offerTimeout')} min={1} max={600} factor={1 / 1000} integerStored />
          <NumField path={['reassignAfterMs']} label={t('editor.reassignAfter')} min={10} max={3600} factor={1 / 1000} integerStored />
        </div>
        <div className="row">
          <NumField path={['afterCallWorkSeconds', 'chat']} label={t('editor.acwChat')} min={0} max={3600} />
          <NumField path={['afterCallWorkSeconds', 'voice']} label={t('editor.acwVoice')} min={0} max={3600} />
        </div>
      </Section>
      <Section title={t('editor.sections.aging')} {...counts('aging')}>
        <div className="row">
          <NumField path={['aging', 'pointsPerMinute']} label={t('editor.pointsPerMinute')} min={0} max={100} step={0.5} />
          <NumField path={['aging', 'maxBoost']} label={t('editor.maxBoost')} min={0} max={100} />
        </div>
        <p className="field__hint">{t('editor.agingHint')}</p>
      </Section>
      <Section title={t('editor.sections.skills')} {...counts('skills')} testId="section-skills">
        <SkillGroups t={t} groups={groups} />
      </Section>
      <Section title={t('editor.sections.widening')} {...counts('widening')} testId="section-widening">
        <p className="field__hint">{t('editor.wideningHint')}</p>
        {TIERS.map((tier) => (
          <Rings key={tier} tier={tier} groups={groups} t={t} />
        ))}
      </Section>
      <Section title={t('editor.sections.serviceLevel')} {...counts('serviceLevel')}>
        <div className="row">
          <NumField path={['serviceLevel', 'thresholdSeconds']} label={t('editor.slThreshold')} min={1} max={3600} />
          <NumField path={['serviceLevel', 'target']} label={t('editor.slTarget')} min={0} max={100} factor={100} />
        </div>
      </Section>
    </fieldset>
  );
}
