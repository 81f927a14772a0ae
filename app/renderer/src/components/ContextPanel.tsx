import { useTranslation } from 'react-i18next';
import { useWorkstation } from '../context';
import { CustomerIdentities, FullHistory } from './CustomerIdentities';
import { useFormat } from '../format';
import { useStaff } from '../staff';
import { DecisionExplanation } from './routing/DecisionExplanation';
import { PrivacyRequestActions } from './PrivacyRequestActions';
import { useCustomerName } from '../customer-name';

export function ContextPanel() {
  const detail = useWorkstation((s) => s.detail);
  const user = useWorkstation((s) => s.user);
  const staff = useStaff();
  const { dateTime } = useFormat();
  // The routing explanation's title is the routing page's (namespace `routing`); the rest is the desk's.
  const { t: tr } = useTranslation('routing');
  const { t } = useTranslation('desk', { keyPrefix: 'context' });
  const { t: tc } = useTranslation('continuity');
  const { t: tt } = useTranslation('transfer');
  const nameOf = useCustomerName();
  if (!detail) return <aside className="context" aria-label={t('label')} />;
  const r = detail.routing;
  return (
    <aside className="context" aria-label={t('label')}>
      <section>
        <h3>{t('customer')}</h3>
        <p className="context__name" dir="auto">
          {nameOf(detail.context.customer.name)}
        </p>
        <p className="muted">
          {t('channelsLine', {
            list: detail.context.customer.channels.map((c) => tc(`channels.${c}`)).join(t('listSeparator')) || '—',
          })}
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
              <h3>{tr('explain.title')}</h3>
            </summary>
            <DecisionExplanation decision={r} staff={staff} self={user ?? undefined} compact />
            {r.transfer && detail.transfer ? (
              <p className="muted small" data-testid="routing-transfer">
                {t('transferLine', {
                  mode: tt(`modeName.${r.transfer.mode}`),
                  from: detail.transfer.from.name,
                  to: detail.transfer.targetLabel,
                })}
              </p>
            ) : null}
          </details>
        </section>
      ) : null}
      <section>
        <h3>{t('history')}</h3>
        {detail.context.previousSessions.length === 0 ? (
          <p className="muted">{t('firstContact')}</p>
        ) : (
          <ul className="history">
            {detail.context.previousSessions.map((p) => (
              <li key={p.id}>
                <code>{p.id}</code> · {t(`statuses.${p.status}`)} · {dateTime(p.createdAt)}
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
