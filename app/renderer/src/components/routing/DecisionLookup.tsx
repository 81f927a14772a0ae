import { useState } from 'react';
import { staffName } from '../../staff';
import { useAdmin } from './admin-context';
import { DecisionExplanation } from './DecisionExplanation';
import { errorText } from './WhatIf';
import { useTranslation } from 'react-i18next';

/** Why a contact went where it went, by its id (`GET /api/v1/sessions/:id`), with every candidate. */
export function DecisionLookup() {
  const { t } = useTranslation('routing');
  const lookup = useAdmin((s) => s.lookup);
  const find = useAdmin((s) => s.lookupSession);
  const staff = useAdmin((s) => s.staff);
  const [id, setId] = useState('');
  const d = lookup.detail;
  return (
    <section className="card lookup" data-testid="decision-lookup">
      <header className="card__head">
        <h3>{t('lookup.title')}</h3>
        <span className="muted small">{t('lookup.hint')}</span>
      </header>
      <form
        className="lookup__form"
        onSubmit={(e) => {
          e.preventDefault();
          void find(id);
        }}
      >
        <input value={id} onChange={(e) => setId(e.target.value)} placeholder="WB… / AP…" aria-label={t('lookup.sessionId')} />
        <button type="submit" disabled={!id.trim() || lookup.loading}>
          {t('lookup.show')}
        </button>
      </form>
      {lookup.error ? (
        <p className="error-line" role="alert">
          {lookup.error.code === 'SESSION_NOT_FOUND' || lookup.error.code === 'NOT_FOUND'
            ? t('lookup.notFound')
            : errorText(lookup.error, t)}
        </p>
      ) : null}
      {d ? (
        <div className="lookup__result" data-testid="lookup-result">
          <p className="small">
            <code>{d.id}</code> · {t('lookup.status')}: {d.status} · {t('explain.skillGroup')}: {d.skillGroup}
            {d.assignedAgentId ? ` · ${t('lookup.assigned')}: ${staffName(staff, d.assignedAgentId)}` : ''}
          </p>
          {d.routing ? <DecisionExplanation decision={d.routing} staff={staff} /> : <p className="muted small">{t('lookup.noDecision')}</p>}
        </div>
      ) : null}
    </section>
  );
}
