import './routing.css';
import type { UserView } from '../../../../../common/api/auth';
import type { RoutingCandidate, RoutingDecision } from '../../../../../common/routing/types';
import { useLocale } from '../../context';
import { localeTag, routingStrings, type RoutingStrings } from '../../i18n-routing';
import { staffName } from '../../staff';

const num = (n: number, digits = 1) => (Math.round(n * 10 ** digits) / 10 ** digits).toString();

/** A wait in words: `40 s`, `2 min 5 s`, `1 h 3 min`. */
export function waitedText(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return s % 60 ? `${m} min ${s % 60} s` : `${m} min`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

/** The signed-in user: named from the session even without the staff directory (agents do not read it). */
type Self = Pick<UserView, 'id' | 'displayName'>;

const nameOf = (staff: readonly UserView[], id: string, self?: Self) =>
  self && id === self.id && !staff.some((u) => u.id === id) ? self.displayName : staffName(staff, id);

function CandidateRow({ c, staff, self, t }: { c: RoutingCandidate; staff: readonly UserView[]; self?: Self; t: RoutingStrings }) {
  return (
    <tr className={c.chosen ? 'cand cand--chosen' : 'cand'} data-testid="candidate" data-chosen={c.chosen || undefined}>
      <td>
        <bdi dir="auto">{nameOf(staff, c.agentId, self)}</bdi>
        {c.agentId === self?.id ? <span className="muted"> ({t.explain.you})</span> : null}
      </td>
      <td className="cand__chosen" aria-label={t.explain.chosen}>
        {c.chosen ? '✓' : ''}
      </td>
      <td className="num">{c.proficiency ?? '—'}</td>
      <td>{c.skillGroup ?? '—'}</td>
      <td>
        <CandidateReasons c={c} t={t} />
      </td>
    </tr>
  );
}

/** A candidate's reason codes as translated chips, then the router's own words. */
function CandidateReasons({ c, t }: { c: RoutingCandidate; t: RoutingStrings }) {
  return (
    <>
      {(c.codes ?? [])
        .filter((code) => code !== 'chosen')
        .map((code) => (
          <span key={code} className={`code code--${code}`} data-testid="candidate-code">
            {t.codes[code]}
          </span>
        ))}
      <span className="cand__why">{c.reasons.join('; ')}</span>
    </>
  );
}

/** One candidate as a short block, for the narrow side panel. */
function CandidateItem({ c, staff, self, t }: { c: RoutingCandidate; staff: readonly UserView[]; self?: Self; t: RoutingStrings }) {
  return (
    <li className={c.chosen ? 'cand cand--chosen' : 'cand'} data-testid="candidate" data-chosen={c.chosen || undefined}>
      <span className="cand__line">
        <span className="cand__mark" aria-label={c.chosen ? t.explain.chosen : undefined}>
          {c.chosen ? '✓' : '·'}
        </span>
        <bdi dir="auto" className="cand__name">
          {nameOf(staff, c.agentId, self)}
        </bdi>
        {c.agentId === self?.id ? <span className="muted">({t.explain.you})</span> : null}
        {c.proficiency !== undefined ? (
          <span className="muted small">
            {t.explain.proficiency} {c.proficiency}
          </span>
        ) : null}
        {c.skillGroup ? <span className="muted small">{c.skillGroup}</span> : null}
      </span>
      <span className="cand__line">
        <CandidateReasons c={c} t={t} />
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
  const t = routingStrings(useLocale());
  const tag = localeTag(useLocale());
  const x = t.explain;
  const candidates = [...(r.candidates ?? [])].sort((a, b) => Number(b.chosen) - Number(a.chosen));
  return (
    <div className="decision" data-testid="decision">
      <div className="decision__head">
        <span className={`tier tier--${r.tier}`} data-testid="decision-tier">
          {t.tiers[r.tier]}
        </span>
        <strong className="decision__prio">
          {x.priority} {num(r.priority)}
        </strong>
        <span className="decision__version" data-testid="decision-config-version" data-version={r.configVersion}>
          {x.configVersion(r.configVersion)}
        </span>
        {r.offerConfigVersion !== undefined && r.offerConfigVersion !== r.configVersion ? (
          <span className="decision__version">{x.offerConfigVersion(r.offerConfigVersion)}</span>
        ) : null}
      </div>
      <dl className="scores decision__scores">
        <dt>{x.value}</dt>
        <dd>
          {num(r.valueScore)} <span className="muted">× {r.weights.value}</span>
        </dd>
        <dt>{x.difficulty}</dt>
        <dd>
          {num(r.difficultyScore)} <span className="muted">× {r.weights.difficulty}</span>
        </dd>
        <dt>{x.priority}</dt>
        <dd>
          <strong>{num(r.priority)}</strong>{' '}
          <span className="muted small">({x.thresholds(r.thresholds.expert, r.thresholds.assisted)})</span>
        </dd>
        {r.effectivePriority !== undefined ? (
          <>
            <dt>{x.effectivePriority}</dt>
            <dd data-testid="decision-effective">{num(r.effectivePriority)}</dd>
          </>
        ) : null}
        {r.waitedMs !== undefined ? (
          <>
            <dt>{x.waited}</dt>
            <dd>{waitedText(r.waitedMs)}</dd>
          </>
        ) : null}
        <dt>{x.skillGroup}</dt>
        <dd>{r.skillGroup}</dd>
        {r.trigger ? (
          <>
            <dt>{x.trigger}</dt>
            <dd data-testid="decision-trigger">{t.triggers[r.trigger] ?? r.trigger}</dd>
          </>
        ) : null}
        {r.ring ? (
          <>
            <dt>{x.ring}</dt>
            <dd data-testid="decision-ring">{x.ringText(r.ring.index, r.ring.minProficiency, r.ring.skillGroups.join(', '))}</dd>
          </>
        ) : null}
        {r.transfer ? (
          <>
            <dt>{x.transfer}</dt>
            <dd>{x.transferText(nameOf(staff, r.transfer.from, self), r.transfer.to, r.transfer.mode)}</dd>
          </>
        ) : null}
        <dt>{x.offeredTo}</dt>
        <dd data-testid="decision-offered-to">
          {r.offeredTo ? <bdi dir="auto">{nameOf(staff, r.offeredTo, self)}</bdi> : <span className="muted">{x.nobody}</span>}
        </dd>
        <dt>{x.decidedAt}</dt>
        <dd className="small">{new Date(r.offeredAt ?? r.decidedAt).toLocaleString(tag)}</dd>
      </dl>
      <p className="muted small decision__formula">
        {x.formula(r.weights.value, r.weights.difficulty)} · {x.offer}: {r.assignment}
      </p>
      <details className="decision__fold">
        <summary>{x.factors(r.reasons.length)}</summary>
        <ul className="reasons">
          {r.reasons.map((f, i) => (
            <li key={`${f.factor}-${i}`}>
              <span>{f.factor}</span>
              <span className="muted">{f.points !== undefined ? `+${num(f.points)}` : ''}</span>
              <small>{f.note}</small>
            </li>
          ))}
        </ul>
      </details>
      <details className="decision__fold" open data-testid="decision-candidates">
        <summary>{x.candidates(candidates.length)}</summary>
        {candidates.length === 0 ? (
          <p className="muted small">{x.noCandidates}</p>
        ) : compact ? (
          <ul className="cand-list">
            {candidates.map((c) => (
              <CandidateItem key={c.agentId} c={c} staff={staff} self={self} t={t} />
            ))}
          </ul>
        ) : (
          <table className="cands">
            <thead>
              <tr>
                <th>{x.agent}</th>
                <th>{x.chosen}</th>
                <th>{x.proficiency}</th>
                <th>{x.skillGroup}</th>
                <th>{x.why}</th>
              </tr>
            </thead>
            <tbody>
              {candidates.map((c) => (
                <CandidateRow key={c.agentId} c={c} staff={staff} self={self} t={t} />
              ))}
            </tbody>
          </table>
        )}
      </details>
    </div>
  );
}
