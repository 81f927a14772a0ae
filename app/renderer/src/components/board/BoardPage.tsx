import { useEffect, useMemo, useState } from 'react';
import { useStore } from 'zustand';
import { contactTrouble, type BoardAgent, type BoardContact, type BoardGroup, type BoardRules } from '../../../../../common/api/board';
import { useLocale, useWorkstation } from '../../context';
import { createBoardStore, type BoardStore } from '../../stores/board';
import './board.css';
import type { TFunction } from 'i18next';
import { useTranslation } from 'react-i18next';
import { formatWait, hasKey } from '../../locale-format';
import { intlTag } from '../../locale';
import { en } from '../../locales/board';
import { DATE_TIME_DEFAULTS, TIME_DEFAULTS, formatDate } from '../../intl-cache';
import { useCustomerName } from '../../customer-name';

/** The board namespace's translate function (react-i18next). */
type Tr = TFunction<'board'>;

/**
 * What the board's "Supervise" button calls with the contact's session id (issue 16, supervision:
 * open read-only, whisper, barge). The supervision view plugs in here; without it the button does nothing.
 */
export type OnSupervise = (sessionId: string) => void;

/** The time now, re-read every `ms`: waits count up from the server's `since` timestamps without any request. */
export function useNow(ms = 1000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(timer);
  }, [ms]);
  return now;
}

const pct = (rate: number | null, none: string) => (rate === null ? none : `${Math.round(rate * 100)} %`);

/** One skill group's tile: waiting by tier and channel, longest wait, AI and agents, service level, abandonment. */
function GroupTile({ group, now, t }: { group: BoardGroup; now: number; t: Tr }) {
  const { waiting } = group;
  const sl = group.serviceLevel;
  const belowGoal = (rate: number | null) => rate !== null && rate < sl.target;
  return (
    <section className="board-tile" data-testid={`board-group-${group.skillGroup}`} aria-label={t('group', { id: group.skillGroup })}>
      <h3>{t('group', { id: group.skillGroup })}</h3>
      <div className="board-tile__stats">
        <div className="board-stat board-stat--big">
          <span className="board-stat__label">{t('waiting')}</span>
          <span className="board-stat__value" data-testid={`waiting-${group.skillGroup}`}>
            {waiting.total}
          </span>
          <span className="board-stat__parts">
            {(['expert', 'assisted', 'ai', 'unrouted'] as const).map((tier) =>
              waiting.byTier[tier] > 0 || tier !== 'unrouted' ? (
                <span key={tier} className={`board-chip board-chip--${tier}`}>
                  {t(`tiers.${tier}`)} {waiting.byTier[tier]}
                </span>
              ) : null,
            )}
          </span>
          <span className="board-stat__parts">
            {Object.entries(waiting.byChannel).map(([channel, n]) => (
              <span key={channel} className="board-chip">
                {hasKey(en.channels, channel) ? t(`channels.${channel}`) : channel} {n}
              </span>
            ))}
          </span>
        </div>
        <div className="board-stat board-stat--big">
          <span className="board-stat__label">{t('longestWait')}</span>
          <span className="board-stat__value" data-testid={`longest-wait-${group.skillGroup}`}>
            {waiting.longestSince ? formatWait(now - Date.parse(waiting.longestSince)) : t('none')}
          </span>
          {waiting.longestSince ? null : <span className="muted">{t('nobodyWaits')}</span>}
        </div>
        <div className="board-stat">
          <span className="board-stat__label">{t('withAi')}</span>
          <span className="board-stat__value">{group.withAi}</span>
        </div>
        <div className="board-stat">
          <span className="board-stat__label">{t('withAgents')}</span>
          <span className="board-stat__value">{group.active}</span>
        </div>
        <div className={belowGoal(sl.last15m.rate) ? 'board-stat board-stat--bad' : 'board-stat'}>
          <span className="board-stat__label">{t('slRecent')}</span>
          <span className="board-stat__value">{pct(sl.last15m.rate, t('none'))}</span>
          <span className="muted">{t('slTarget', { pct: pct(sl.target, t('none')) })}</span>
        </div>
        <div className={belowGoal(sl.today.rate) ? 'board-stat board-stat--bad' : 'board-stat'}>
          <span className="board-stat__label">{t('slToday')}</span>
          <span className="board-stat__value">{pct(sl.today.rate, t('none'))}</span>
          <span className="muted">
            {sl.today.answeredWithin}/{sl.today.answered + sl.today.abandonedAfter}
          </span>
        </div>
        <div className="board-stat">
          <span className="board-stat__label">{t('abandonment')}</span>
          <span className="board-stat__value">{pct(group.abandonment.today.rate, t('none'))}</span>
          <span className="muted">
            {group.abandonment.today.abandoned}/{group.abandonment.today.queued}
          </span>
        </div>
        <div className="board-stat board-stat--agents">
          <span className="board-stat__label">{t('agentsTitle')}</span>
          <span className="board-stat__parts">
            {Object.entries(group.agents.byPresence).map(([presence, n]) => (
              <span key={presence} className={`board-chip board-chip--presence-${presence}`}>
                {hasKey(en.presences, presence) ? t(`presences.${presence}`) : presence} {n}
              </span>
            ))}
            {group.agents.list.length === 0 ? <span className="muted">{t('noAgents')}</span> : null}
          </span>
        </div>
      </div>
    </section>
  );
}

/** A contact's SLA clock: which response, and the countdown to its due time (or how long it is overdue). */
function SlaDue({ sla, now, t }: { sla: BoardContact['sla']; now: number; t: Tr }) {
  if (!sla) return <span className="muted">{t('none')}</span>;
  const kind = sla.kind === 'first' ? t('sla.first') : t('sla.next');
  if (sla.dueAt === null)
    return (
      <span>
        {kind} · <span className="muted">{t('sla.paused')}</span>
      </span>
    );
  const left = Date.parse(sla.dueAt) - now;
  const over = sla.breached || left <= 0;
  return (
    <span
      title={t('sla.title', { due: formatDate(sla.dueAt, undefined, DATE_TIME_DEFAULTS) })}
      className={over ? 'board-sla--over' : undefined}
    >
      {kind} · {over ? t('sla.over', { time: formatWait(-left) }) : t('sla.left', { time: formatWait(left) })}
    </span>
  );
}

/** The open contacts of every watched group, in trouble first within their order; each with a Supervise button. */
function ContactsTable({
  contacts,
  rules,
  now,
  t,
  onSupervise,
}: {
  contacts: BoardContact[];
  rules: BoardRules;
  now: number;
  t: Tr;
  onSupervise: OnSupervise | undefined;
}) {
  const nameOf = useCustomerName();
  if (contacts.length === 0) return <p className="muted">{t('noContacts')}</p>;
  return (
    <table className="board-table" data-testid="board-contacts">
      <thead>
        <tr>
          <th>{t('columns.customer')}</th>
          <th>{t('columns.group')}</th>
          <th>{t('columns.channel')}</th>
          <th>{t('columns.tier')}</th>
          <th>{t('columns.status')}</th>
          <th>{t('columns.wait')}</th>
          <th>{t('columns.sla')}</th>
          <th>{t('columns.agent')}</th>
          <th>{t('columns.trouble')}</th>
          <th>{t('columns.actions')}</th>
        </tr>
      </thead>
      <tbody>
        {contacts.map((c) => {
          // Re-evaluated each second with the server's rules: a wait crossing the line turns red without a push.
          const trouble = contactTrouble(c, now, rules);
          // Waiting contacts: the wait for a person; the AI's and agents' contacts: how long the customer's last message waits for an answer.
          const waitFrom = c.status === 'queued' || c.status === 'offered' ? c.waitingSince : c.unansweredSince;
          return (
            <tr
              key={c.sessionId}
              data-testid="board-contact"
              data-session-id={c.sessionId}
              data-trouble={trouble.join(' ')}
              className={trouble.length > 0 ? 'board-row board-row--trouble' : 'board-row'}
            >
              <td>
                <bdi dir="auto">{nameOf(c.customerName)}</bdi>
              </td>
              <td>{c.skillGroup}</td>
              <td>{t(`channels.${c.channel}`)}</td>
              <td>{c.tier ? <span className={`board-chip board-chip--${c.tier}`}>{t(`tiers.${c.tier}`)}</span> : t('tiers.unrouted')}</td>
              <td>{t(`statuses.${c.status}`)}</td>
              <td className="board-wait" data-testid="board-wait">
                {waitFrom ? formatWait(now - Date.parse(waitFrom)) : t('none')}
              </td>
              <td className="board-sla" data-testid="board-sla">
                <SlaDue sla={c.sla} now={now} t={t} />
              </td>
              <td>{c.assignedAgentName ?? c.assignedAgentId ?? t('unassigned')}</td>
              <td>
                <div className="board-trouble">
                  {trouble.map((reason) => (
                    <span key={reason} className={`trouble trouble--${reason}`}>
                      {t(`trouble.${reason}`)}
                    </span>
                  ))}
                </div>
              </td>
              <td>
                <button
                  type="button"
                  className="ghost board-supervise"
                  data-testid="board-supervise"
                  onClick={() => onSupervise?.(c.sessionId)}
                >
                  {t('supervise')}
                </button>
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

/** Every agent of the watched groups once, with the state and load (chats held / capacity). */
function AgentsTable({ agents, groupsOf, t }: { agents: BoardAgent[]; groupsOf: Map<string, string[]>; t: Tr }) {
  if (agents.length === 0) return <p className="muted">{t('noAgents')}</p>;
  return (
    <table className="board-table board-table--agents" data-testid="board-agents">
      <thead>
        <tr>
          <th>{t('columns.name')}</th>
          <th>{t('columns.group')}</th>
          <th>{t('columns.state')}</th>
          <th>{t('columns.load')}</th>
        </tr>
      </thead>
      <tbody>
        {agents.map((a) => {
          const share = a.capacity > 0 ? Math.min(1, a.activeChats / a.capacity) : 0;
          return (
            <tr key={a.id} data-testid="board-agent" data-agent-id={a.id}>
              <td>
                <bdi dir="auto">{a.name}</bdi>
              </td>
              <td>{(groupsOf.get(a.id) ?? []).join(', ')}</td>
              <td>
                <span className={`board-chip board-chip--presence-${a.presence}`}>{t(`presences.${a.presence}`)}</span>
              </td>
              <td>
                <span className="loadbar" role="meter" aria-valuemin={0} aria-valuemax={a.capacity} aria-valuenow={a.activeChats}>
                  <span
                    className={share >= 1 ? 'loadbar__fill loadbar__fill--full' : 'loadbar__fill'}
                    style={{ width: `${share * 100}%` }}
                  />
                </span>
                <span className="loadbar__text">
                  {a.activeChats}/{a.capacity}
                </span>
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

/** The board of an existing store (tests give one; the page makes its own). */
export function BoardView({ store, onSupervise }: { store: BoardStore; onSupervise?: OnSupervise }) {
  const { t } = useTranslation('board');
  const tag = intlTag(useLocale());
  const status = useStore(store, (s) => s.status);
  const error = useStore(store, (s) => s.error);
  const rules = useStore(store, (s) => s.rules);
  const order = useStore(store, (s) => s.order);
  const groups = useStore(store, (s) => s.groups);
  const now = useNow(1000);
  const list = useMemo(() => order.map((g) => groups[g]).filter((g): g is BoardGroup => g !== undefined), [order, groups]);
  const contacts = useMemo(() => list.flatMap((g) => g.contacts), [list]);
  const { agents, groupsOf } = useMemo(() => {
    const byId = new Map<string, BoardAgent>();
    const of = new Map<string, string[]>();
    for (const g of list)
      for (const a of g.agents.list) {
        byId.set(a.id, a);
        of.set(a.id, [...(of.get(a.id) ?? []), g.skillGroup]);
      }
    return { agents: [...byId.values()].sort((a, b) => a.name.localeCompare(b.name)), groupsOf: of };
  }, [list]);
  const updated = list.reduce((latest, g) => Math.max(latest, Date.parse(g.at)), 0);
  const truncated = list.filter((g) => g.contactsTotal > g.contacts.length);

  return (
    <main className="board" data-testid="board" data-status={status}>
      <div className="board__head">
        <div>
          <h2>{t('title')}</h2>
          <p className="muted">{t('intro')}</p>
        </div>
        <span className={`board__status board__status--${status}`} data-testid="board-status">
          {status === 'live' ? t('live') : status === 'reconnecting' ? t('reconnecting') : status === 'loading' ? t('loading') : null}
          {status === 'live' && updated > 0 ? ` · ${formatDate(updated, tag, TIME_DEFAULTS)}` : null}
        </span>
      </div>
      {status === 'failed' ? (
        <p className="board__error" role="alert" data-testid="board-error">
          {hasKey(en.errors, error) ? t(`errors.${error}`) : t('errors.fallback')}
        </p>
      ) : null}
      {status === 'live' && list.length === 0 ? <p className="muted">{t('noGroups')}</p> : null}
      <div className="board__tiles">
        {list.map((g) => (
          <GroupTile key={g.skillGroup} group={g} now={now} t={t} />
        ))}
      </div>
      {rules && list.length > 0 ? (
        <div className="board__tables">
          <section className="board__section">
            <h3>{t('contactsTitle')}</h3>
            <ContactsTable contacts={contacts} rules={rules} now={now} t={t} onSupervise={onSupervise} />
            {truncated.map((g) => (
              <p key={g.skillGroup} className="muted">
                {g.skillGroup}: {t('more', { shown: g.contacts.length, total: g.contactsTotal })}
              </p>
            ))}
          </section>
          <section className="board__section board__section--agents">
            <h3>{t('agentsTitle')}</h3>
            <AgentsTable agents={agents} groupsOf={groupsOf} t={t} />
          </section>
        </div>
      ) : null}
    </main>
  );
}

/**
 * The lead's live board page (issue 16): subscribes over the workstation's agent socket while shown,
 * unsubscribes when left. `onSupervise`: the supervision hook point (see `OnSupervise`).
 */
export function BoardPage({ onSupervise }: { onSupervise?: OnSupervise }) {
  const connection = useWorkstation((s) => s.connection);
  const store = useMemo(() => createBoardStore(connection), [connection]);
  useEffect(() => {
    store.getState().start();
    return () => store.getState().stop();
  }, [store]);
  return <BoardView store={store} {...(onSupervise ? { onSupervise } : {})} />;
}
