import './routing.css';
import type { UserView } from '../../../../../common/api/auth';
import type { RoutingCandidate, RoutingDecision } from '../../../../../common/routing/types';
import { useLocale } from '../../context';
import { staffName } from '../../staff';
import type { TFunction } from 'i18next';
import { useTranslation } from 'react-i18next';
import { hasKey } from '../../locale-format';
import { intlTag, type Locale } from '../../locale';
import { factorName, reasonText, reasonsText } from './reason-text';
import { en } from '../../locales/routing';

/** The routing namespace's translate function (react-i18next). */
type Tr = TFunction<'routing'>;

const num = (n: number, digits = 1) => (Math.round(n * 10 ** digits) / 10 ** digits).toString();

/** A wait (`ms`, milliseconds) in words, in the language of `t`: `40 s`, `2 min 5 s`, `1 h 3 min` / `2 分 5 秒`. */
export function waitedText(ms: number, t: Tr): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return t('explain.waitedTime.seconds', { s });
  const m = Math.floor(s / 60);
  if (m < 60) return s % 60 ? t('explain.waitedTime.minutesSeconds', { m, s: s % 60 }) : t('explain.waitedTime.minutes', { m });
  return t('explain.waitedTime.hours', { h: Math.floor(m / 60), m: m % 60 });
}

/** The signed-in user: named from the session even without the staff directory (agents do not read it). */
type Self = Pick<UserView, 'id' | 'displayName'>;

const nameOf = (staff: readonly UserView[], id: string, self?: Self) =>
  self && id === self.id && !staff.some((u) => u.id === id) ? self.displayName : staffName(staff, id);

function CandidateRow({
  c,
  staff,
  self,
  t,
  locale,
}: {
  c: RoutingCandidate;
  staff: readonly UserView[];
  self?: Self;
  t: Tr;
  locale: Locale;
}) {
  return (
    <tr className={c.chosen ? 'cand cand--chosen' : 'cand'} data-testid="candidate" data-chosen={c.chosen || undefined}>
      <td>
        <bdi dir="auto">{nameOf(staff, c.agentId, self)}</bdi>
        {c.agentId === self?.id ? <span className="muted"> ({t('explain.you')})</span> : null}
      </td>
      <td className="cand__chosen" aria-label={t('explain.chosen')}>
        {c.chosen ? '✓' : ''}
      </td>
      <td className="num">{c.proficiency ?? '—'}</td>
      <td>{c.skillGroup ?? '—'}</td>
      <td>
        <CandidateReasons c={c} t={t} locale={locale} />
      </td>
    </tr>
  );
}

/** A candidate's reason codes as translated chips, then the router's reasons in the current language (English when unknown). */
function CandidateReasons({ c, t, locale }: { c: RoutingCandidate; t: Tr; locale: Locale }) {
  return (
    <>
      {(c.codes ?? [])
        .filter((code) => code !== 'chosen')
        .map((code) => (
          <span key={code} className={`code code--${code}`} data-testid="candidate-code">
            {t(`codes.${code}`)}
          </span>
        ))}
      <span className="cand__why" data-testid="candidate-why">
        {reasonsText(c.details, c.reasons.join('; '), t, locale)}
      </span>
    </>
  );
}

/** One candidate as a short block, for the narrow side panel. */
function CandidateItem({
  c,
  staff,
  self,
  t,
  locale,
}: {
  c: RoutingCandidate;
  staff: readonly UserView[];
  self?: Self;
  t: Tr;
  locale: Locale;
}) {
  return (
    <li className={c.chosen ? 'cand cand--chosen' : 'cand'} data-testid="candidate" data-chosen={c.chosen || undefined}>
      <span className="cand__line">
        <span className="cand__mark" aria-label={c.chosen ? t('explain.chosen') : undefined}>
          {c.chosen ? '✓' : '·'}
        </span>
        <bdi dir="auto" className="cand__name">
          {nameOf(staff, c.agentId, self)}
        </bdi>
        {c.agentId === self?.id ? <span className="muted">({t('explain.you')})</span> : null}
        {c.proficiency !== undefined ? (
          <span className="muted small">
            {t('explain.proficiency')} {c.proficiency}
          </span>
        ) : null}
        {c.skillGroup ? <span className="muted small">{c.skillGroup}</span> : null}
      </span>
      <span className="cand__line">
        <CandidateReasons c={c} t={t} locale={locale} />
      </span>
    </li>
  );
}

/**
 * Why a contact went where it went (issue 11, DESIGN §5 explanation): the scores and their factors,
 * the weights and thresholds of the config version used, the tier, what triggered the decision, the
 * widening ring, aging and wait, a transfer, and every candidate agent with why they were or were not
 * chosen. Every field added after the first shape is optional and shown only when present.
 * `compact`: for the workstation's narrow side panel (candidates as a list).
 */
export function DecisionExplanation({
  decision: r,
  staff,
  self,
  compact = false,
}: {
  decision: RoutingDecision;
  staff: readonly UserView[];
  self?: Self;
  compact?: boolean;
}) {
  const { t } = useTranslation('routing');
  const locale = useLocale();
  const tag = intlTag(locale);
  const candidates = [...(r.candidates ?? [])].sort((a, b) => Number(b.chosen) - Number(a.chosen));
  const transferParams = r.reasons.find((f) => f.factor === 'transfer')?.params;
  const transferNames = {
    from: typeof transferParams?.['from'] === 'string' ? transferParams['from'] : undefined,
    target: typeof transferParams?.['target'] === 'string' ? transferParams['target'] : undefined,
  };
  return (
    <div className="decision" data-testid="decision">
      <div className="decision__head">
        <span className={`tier tier--${r.tier}`} data-testid="decision-tier">
          {t(`tiers.${r.tier}`)}
        </span>
        <strong className="decision__prio">
          {t('explain.priority')} {num(r.priority)}
        </strong>
        <span className="decision__version" data-testid="decision-config-version" data-version={r.configVersion}>
          {t('explain.configVersion', { v: r.configVersion })}
        </span>
        {r.offerConfigVersion !== undefined && r.offerConfigVersion !== r.configVersion ? (
          <span className="decision__version">{t('explain.offerConfigVersion', { v: r.offerConfigVersion })}</span>
        ) : null}
      </div>
      <dl className="scores decision__scores">
        <dt>{t('explain.value')}</dt>
        <dd>
          {num(r.valueScore)} <span className="muted">× {r.weights.value}</span>
        </dd>
        <dt>{t('explain.difficulty')}</dt>
        <dd>
          {num(r.difficultyScore)} <span className="muted">× {r.weights.difficulty}</span>
        </dd>
        <dt>{t('explain.priority')}</dt>
        <dd>
          <strong>{num(r.priority)}</strong>{' '}
          <span className="muted small">({t('explain.thresholds', { e: r.thresholds.expert, a: r.thresholds.assisted })})</span>
        </dd>
        {r.effectivePriority !== undefined ? (
          <>
            <dt>{t('explain.effectivePriority')}</dt>
            <dd data-testid="decision-effective">{num(r.effectivePriority)}</dd>
          </>
        ) : null}
        {r.waitedMs !== undefined ? (
          <>
            <dt>{t('explain.waited')}</dt>
            <dd>{waitedText(r.waitedMs, t)}</dd>
          </>
        ) : null}
        <dt>{t('explain.skillGroup')}</dt>
        <dd>{r.skillGroup}</dd>
        {r.trigger ? (
          <>
            <dt>{t('explain.trigger')}</dt>
            <dd data-testid="decision-trigger">{hasKey(en.triggers, r.trigger) ? t(`triggers.${r.trigger}`) : r.trigger}</dd>
          </>
        ) : null}
        {r.ring ? (
          <>
            <dt>{t('explain.ring')}</dt>
            <dd data-testid="decision-ring">
              {r.ring.skillGroups.length
                ? t('explain.ringTextGroups', { ring: r.ring.index + 1, min: r.ring.minProficiency, groups: r.ring.skillGroups.join(', ') })
                : t('explain.ringText', { ring: r.ring.index + 1, min: r.ring.minProficiency })}
            </dd>
          </>
        ) : null}
        {r.transfer ? (
          <>
            <dt>{t('explain.transfer')}</dt>
            <dd data-testid="decision-transfer">
              {t('explain.transferText', {
                // The transfer reason names both sides (issue 15); an agent's staff list may not know them.
                from: transferNames.from ?? nameOf(staff, r.transfer.from, self),
                to: transferNames.target ?? r.transfer.to,
                mode: t(`explain.modes.${r.transfer.mode}`),
              })}
            </dd>
          </>
        ) : null}
        <dt>{t('explain.offeredTo')}</dt>
        <dd data-testid="decision-offered-to">
          {r.offeredTo ? <bdi dir="auto">{nameOf(staff, r.offeredTo, self)}</bdi> : <span className="muted">{t('explain.nobody')}</span>}
        </dd>
        <dt>{t('explain.decidedAt')}</dt>
        <dd className="small">{new Date(r.offeredAt ?? r.decidedAt).toLocaleString(tag)}</dd>
      </dl>
      <p className="muted small decision__formula">
        {t('explain.formula', { wv: r.weights.value, wd: r.weights.difficulty })} · {t('explain.offer')}:{' '}
        <span data-testid="decision-assignment">{reasonsText(r.assignmentDetails, r.assignment, t, locale)}</span>
      </p>
      <details className="decision__fold">
        <summary>{t('explain.factors', { n: r.reasons.length })}</summary>
        <ul className="reasons">
          {r.reasons.map((f, i) => (
            <li key={`${f.factor}-${i}`}>
              <span data-testid="decision-factor" data-factor={f.factor}>
                {factorName(f.factor, t)}
              </span>
              <span className="muted">{f.points !== undefined ? `+${num(f.points)}` : ''}</span>
              <small data-testid="decision-factor-note">{reasonText(f, f.note, t, locale)}</small>
            </li>
          ))}
        </ul>
      </details>
      <details className="decision__fold" open data-testid="decision-candidates">
        <summary>{t('explain.candidates', { n: candidates.length })}</summary>
        {candidates.length === 0 ? (
          <p className="muted small">{t('explain.noCandidates')}</p>
        ) : compact ? (
          <ul className="cand-list">
            {candidates.map((c) => (
              <CandidateItem key={c.agentId} c={c} staff={staff} self={self} t={t} locale={locale} />
            ))}
          </ul>
        ) : (
          <table className="cands">
            <thead>
              <tr>
                <th>{t('explain.agent')}</th>
                <th>{t('explain.chosen')}</th>
                <th>{t('explain.proficiency')}</th>
                <th>{t('explain.skillGroup')}</th>
                <th>{t('explain.why')}</th>
              </tr>
            </thead>
            <tbody>
              {candidates.map((c) => (
                <CandidateRow key={c.agentId} c={c} staff={staff} self={self} t={t} locale={locale} />
              ))}
            </tbody>
          </table>
        )}
      </details>
    </div>
  );
}
