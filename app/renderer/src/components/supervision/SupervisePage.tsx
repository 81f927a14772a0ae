import { useCallback, useContext, useEffect, useState } from 'react';
import type { SessionSummary } from '../../../../../common/api/sessions';
import { bearerCaller } from '../../api/http';
import { useWorkstation } from '../../context';
import { useFormat } from '../../format';
import { StaffContext, staffName } from '../../staff';
import { SupervisionView } from './SupervisionView';
import './supervision.css';
import { useTranslation } from 'react-i18next';
import { supervisionErrorText } from './SupervisionView';
import { useCustomerName } from '../../customer-name';

const call = bearerCaller();

/** The statuses the page lists: conversations still going on (the AI's, waiting, offered, with an agent). */
const OPEN_STATUSES = ['active', 'offered', 'queued', 'bot'] as const;

/**
 * The lead's "Supervise / 监看" page (issue 16): the open conversations of their skill groups, read
 * with `GET /api/v1/sessions` (the server scopes it to their groups), each with a Supervise button;
 * or, once one is opened (here or from the live board's `openSupervision`), the supervision view.
 */
export function SupervisePage() {
  const { t } = useTranslation('supervision');
  const nameOf = useCustomerName();
  const fmt = useFormat();
  const token = useWorkstation((s) => s.token);
  const supervisedId = useWorkstation((s) => s.supervisedId);
  const openSupervision = useWorkstation((s) => s.openSupervision);
  const staff = useContext(StaffContext);
  const [rows, setRows] = useState<SessionSummary[] | null>(null);
  // The refusal's code (`''`: none known); its words are chosen when rendering, in the language then.
  const [error, setError] = useState<string | null>(null);

  const load = useCallback(async () => {
    if (!token) return;
    try {
      const lists = await Promise.all(
        OPEN_STATUSES.map((status) => call<{ sessions: SessionSummary[] }>(token, 'GET', `/api/v1/sessions?status=${status}&limit=200`)),
      );
      setRows(lists.flatMap((l) => l.sessions));
      setError(null);
    } catch (e) {
      setError((e as { code?: string }).code ?? '');
    }
  }, [token]);

  useEffect(() => {
    if (!supervisedId) void load();
  }, [load, supervisedId]);

  if (supervisedId) {
    return (
      <main className="supervise" data-testid="supervise-page">
        <SupervisionView />
      </main>
    );
  }
  return (
    <main className="supervise" data-testid="supervise-page">
      <header className="supervise__head">
        <h2>{t('title')}</h2>
        <p className="muted">{t('intro')}</p>
        <button type="button" className="ghost" onClick={() => void load()}>
          {t('refresh')}
        </button>
      </header>
      {error !== null ? (
        <p className="error" role="alert">
          {supervisionErrorText(t, error)}
        </p>
      ) : null}
      {rows === null ? (
        <p className="muted">{t('loading')}</p>
      ) : rows.length === 0 ? (
        <p className="muted">{t('none')}</p>
      ) : (
        <table className="supervise__table" data-testid="supervise-list">
          <thead>
            <tr>
              <th>{t('columns.customer')}</th>
              <th>{t('columns.channel')}</th>
              <th>{t('columns.group')}</th>
              <th>{t('columns.status')}</th>
              <th>{t('columns.agent')}</th>
              <th>{t('columns.waiting')}</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={r.id} data-testid="supervise-row" data-session={r.id}>
                <td>
                  <bdi dir="auto">{nameOf(r.customerName)}</bdi>
                </td>
                <td>{r.channel}</td>
                <td>{r.skillGroup}</td>
                <td>{t(`statuses.${r.status}`)}</td>
                <td>{r.assignedAgentId ? staffName(staff, r.assignedAgentId) : t('unassigned')}</td>
                <td>{fmt.stamp(r.createdAt)}</td>
                <td>
                  <button type="button" onClick={() => void openSupervision(r.id)} data-testid="supervise-open">
                    {t('supervise')}
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </main>
  );
}
