import { useWorkstation } from '../context';
import { channelName } from '../format';

export function ContextPanel() {
  const detail = useWorkstation((s) => s.detail);
  if (!detail) return <aside className="context" aria-label="Customer context" />;
  const r = detail.routing;
  return (
    <aside className="context" aria-label="Customer context">
      <section>
        <h3>Customer</h3>
        <p className="context__name" dir="auto">
          {detail.context.customer.name}
        </p>
        <p className="muted">Channels: {detail.context.customer.channels.map(channelName).join(', ') || '—'}</p>
      </section>
      {r ? (
        <section data-testid="routing">
          <h3>Routing</h3>
          <dl className="scores">
            <dt>Value</dt>
            <dd>{r.valueScore.toFixed(1)}</dd>
            <dt>Difficulty</dt>
            <dd>{r.difficultyScore.toFixed(1)}</dd>
            <dt>Priority</dt>
            <dd>
              <strong>{r.priority.toFixed(1)}</strong> → <span className={`tier tier--${r.tier}`}>{r.tier}</span>
            </dd>
          </dl>
          <p className="muted small">
            {r.weights.value}×value + {r.weights.difficulty}×difficulty · expert &gt; {r.thresholds.expert}, assisted &gt;{' '}
            {r.thresholds.assisted} · config v{r.configVersion}
          </p>
          <ul className="reasons">
            {r.reasons
              .filter((x) => x.points === undefined || x.points > 0)
              .map((x) => (
                <li key={x.factor}>
                  <span>{x.factor}</span>
                  <span className="muted">{x.points !== undefined ? `+${x.points}` : ''}</span>
                  <small>{x.note}</small>
                </li>
              ))}
          </ul>
          <p className="muted small">Offer: {r.assignment}</p>
          {r.transfer ? (
            <p className="muted small" data-testid="routing-transfer">
              Transfer: {r.transfer.mode} ·{' '}
              {detail.transfer ? `${detail.transfer.from.name} → ${detail.transfer.targetLabel}` : `${r.transfer.from} → ${r.transfer.to}`}
            </p>
          ) : null}
        </section>
      ) : null}
      <section>
        <h3>History</h3>
        {detail.context.previousSessions.length === 0 ? (
          <p className="muted">First contact.</p>
        ) : (
          <ul className="history">
            {detail.context.previousSessions.map((p) => (
              <li key={p.id}>
                <code>{p.id}</code> · {p.status} · {new Date(p.createdAt).toLocaleString()}
              </li>
            ))}
          </ul>
        )}
      </section>
    </aside>
  );
}
