import { useLocale, useWorkstation } from '../context';
import { continuityStrings } from '../i18n-continuity';
import { CustomerIdentities, FullHistory } from './CustomerIdentities';
import { localeTag, routingStrings } from '../i18n-routing';
import { useStaff } from '../staff';
import { DecisionExplanation } from './routing/DecisionExplanation';
import { PrivacyRequestActions } from './PrivacyRequestActions';

export function ContextPanel() {
  const detail = useWorkstation((s) => s.detail);
  const user = useWorkstation((s) => s.user);
  const staff = useStaff();
  const locale = useLocale();
  const t = routingStrings(locale);
  const tc = continuityStrings(locale);
  if (!detail) return <aside className="context" aria-label={t.context.label} />;
  const r = detail.routing;
  return (
    <aside className="context" aria-label={t.context.label}>
      <section>
        <h3>{t.context.customer}</h3>
        <p className="context__name" dir="auto">
          {detail.context.customer.name}
        </p>
        <p className="muted">
          {t.context.channels}: {detail.context.customer.channels.map((c) => tc.channels[c]).join(locale === 'zh' ? '、' : ', ') || '—'}
        </p>
      </section>
      <CustomerIdentities
        customerId={detail.customerId}
        groupId={detail.context.customer.groupId ?? detail.customerId}
        name={detail.context.customer.name}
        refreshKey={`${detail.id}|${detail.context.customer.channels.join(',')}`}
      />
      {r ? (
        // Why this contact came here (issue 11): folded away with one click when the agent needs the room.
        <section data-testid="routing">
          <details className="context__fold" open>
            <summary>
              <h3>{t.explain.title}</h3>
            </summary>
            <DecisionExplanation decision={r} staff={staff} self={user ?? undefined} compact />
            {r.transfer && detail.transfer ? (
              <p className="muted small" data-testid="routing-transfer">
                {t.context.transfer}: {r.transfer.mode} · {detail.transfer.from.name} → {detail.transfer.targetLabel}
              </p>
            ) : null}
          </details>
        </section>
      ) : null}
      <section>
        <h3>{t.context.history}</h3>
        {detail.context.previousSessions.length === 0 ? (
          <p className="muted">{t.context.firstContact}</p>
        ) : (
          <ul className="history">
            {detail.context.previousSessions.map((p) => (
              <li key={p.id}>
                <code>{p.id}</code> · {p.status} · {new Date(p.createdAt).toLocaleString(localeTag(locale))}
              </li>
            ))}
          </ul>
        )}
      </section>
      <FullHistory customerId={detail.customerId} />
      <PrivacyRequestActions customerId={detail.customerId} />
    </aside>
  );
}
