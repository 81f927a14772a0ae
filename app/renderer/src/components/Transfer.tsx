import { useEffect, useState, type FormEvent } from 'react';
import type { SessionDetail, MessageView } from '../../../../common/api/sessions';
import {
  TRANSFER_DECLINE_REASON_MAX,
  TRANSFER_EVENT_NAME,
  TRANSFER_NOTE_MAX,
  TransferEventDataSchema,
  type TransferMode,
  type TransferTarget,
  type TransferView,
} from '../../../../common/api/transfers';
import { useTranslation } from 'react-i18next';
import { useWorkstation } from '../context';
import { useFormat } from '../format';
import { useClock } from '../clock';
import { ServerError } from './ServerError';
import { useCustomerName } from '../customer-name';
import { isImeComposing } from './ime';
import { useSummaryLines } from './summary-lines';
import { TAKEOVER_NOTE_PREFIX } from '../../../../common/api/collision';
import type { TFunction } from 'i18next';

/**
 * A transfer's note as the card shows it: the sender's own words in quotes, or, for the transfer a
 * take-over made (`takeoverNote` on the server), "<name> asked to take over" in the desk's language.
 */
export function transferNoteText(note: string, t: TFunction<'transfer'>): string {
  if (note.startsWith(TAKEOVER_NOTE_PREFIX)) return t('takeoverNote', { name: note.slice(TAKEOVER_NOTE_PREFIX.length) });
  return `“${note}”`;
}

/**
 * Transfers in the workstation (issue 11): the dialog behind the conversation's Transfer button,
 * the sender's pending banner (with Cancel), the receiver's incoming-transfer cards (note, AI
 * summary, Accept / Decline), the card at the top of a transferred conversation, the agents' record
 * of a transfer in the transcript, and the outcome told to the sender.
 */

/** The clock, ticking every second (countdowns): the shared one (issue 15), not a timer per card. */
const useNow = (): number => useClock((now) => now);
const secondsUntil = (iso: string | null, now: number) => (iso ? Math.max(0, Math.ceil((Date.parse(iso) - now) / 1000)) : 0);

type Kind = TransferTarget['kind'];

/** Pick the target (a colleague, a skill group, the expert tier), warm or cold, and a note. */
export function TransferDialog({ detail, onClose }: { detail: SessionDetail; onClose: () => void }) {
  const { t } = useTranslation('transfer');
  const targets = useWorkstation((s) => s.transferTargets);
  const load = useWorkstation((s) => s.loadTransferTargets);
  const request = useWorkstation((s) => s.requestTransfer);
  const error = useWorkstation((s) => s.transferError);
  const [kind, setKind] = useState<Kind>('agent');
  const [agentId, setAgentId] = useState('');
  const [group, setGroup] = useState('');
  const [expertGroup, setExpertGroup] = useState(detail.skillGroup);
  // A call is transferred cold (a warm transfer is for chats).
  const [mode, setMode] = useState<TransferMode>(detail.channel === 'SP' ? 'cold' : 'warm');
  const [note, setNote] = useState('');
  const [sending, setSending] = useState(false);

  useEffect(() => {
    void load(detail.id);
  }, [detail.id, load]);
  useEffect(() => {
    if (!targets) return;
    setAgentId((a) => a || targets.agents.find((x) => x.presence === 'available')?.id || targets.agents[0]?.id || '');
    setGroup((g) => g || targets.skillGroups.find((x) => x.id !== detail.skillGroup)?.id || targets.skillGroups[0]?.id || '');
  }, [targets, detail.skillGroup]);

  const mine = targets?.agents.filter((a) => a.sharesGroup) ?? [];
  const others = targets?.agents.filter((a) => !a.sharesGroup) ?? [];
  const groupName = (id: string) => targets?.skillGroups.find((g) => g.id === id)?.name ?? id;
  const target: TransferTarget | null =
    kind === 'agent'
      ? agentId
        ? { kind, agentId }
        : null
      : kind === 'skill-group'
        ? group
          ? { kind, skillGroup: group }
          : null
        : { kind, skillGroup: expertGroup };

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!target || sending) return;
    setSending(true);
    const done = await request({ to: target, mode, ...(note.trim() ? { note: note.trim() } : {}) });
    setSending(false);
    if (done) onClose();
  };
  const agentOption = (a: NonNullable<typeof targets>['agents'][number]) => (
    <option key={a.id} value={a.id}>
      {`${a.name}${a.expert ? ' ★' : ''} · ${t(`presence.${a.presence}`)} · ${t('chats', { count: a.activeChats })} · ${a.skillGroups.map(groupName).join(', ')}`}
    </option>
  );

  return (
    <form
      className="transfer-dialog"
      aria-label={t('title')}
      data-testid="transfer-dialog"
      onSubmit={(e) => void submit(e)}
      // Esc closes the dialog like Cancel (issue 15: keyboard-first), from any field in it.
      onKeyDown={(e) => {
        if (e.key === 'Escape' && !isImeComposing(e)) {
          e.stopPropagation();
          onClose();
        }
      }}
    >
      <h3>{t('title')}</h3>
      <div className="transfer-dialog__row" role="radiogroup" aria-label={t('targetKind')}>
        <span className="transfer-dialog__label">{t('targetKind')}</span>
        <span className="transfer-dialog__options">
          {(['agent', 'skill-group', 'expert'] as const).map((k) => (
            <label key={k} className="radio">
              <input type="radio" name="transfer-kind" value={k} checked={kind === k} onChange={() => setKind(k)} />
              {t(`kinds.${k}`)}
            </label>
          ))}
        </span>
      </div>
      {kind === 'agent' ? (
        targets && targets.agents.length === 0 ? (
          <p className="muted">{t('noAgents')}</p>
        ) : (
          <label className="transfer-dialog__field">
            <span>{t('agent')}</span>
            <select value={agentId} onChange={(e) => setAgentId(e.target.value)} disabled={!targets} data-testid="transfer-agent">
              {mine.length ? <optgroup label={detail.skillGroup}>{mine.map(agentOption)}</optgroup> : null}
              {others.length ? <optgroup label={t('otherGroups')}>{others.map(agentOption)}</optgroup> : null}
            </select>
          </label>
        )
      ) : (
        <label className="transfer-dialog__field">
          <span className="transfer-dialog__label">{t('skillGroup')}</span>
          <select
            value={kind === 'skill-group' ? group : expertGroup}
            onChange={(e) => (kind === 'skill-group' ? setGroup(e.target.value) : setExpertGroup(e.target.value))}
            disabled={!targets}
            data-testid="transfer-group"
          >
            {(targets?.skillGroups ?? []).map((g) => (
              <option key={g.id} value={g.id}>
                {kind === 'expert' ? t('expertOf', { group: g.name }) : g.name}
              </option>
            ))}
          </select>
        </label>
      )}
      <div className="transfer-dialog__row" role="radiogroup" aria-label={t('mode')}>
        <span className="transfer-dialog__label">{t('mode')}</span>
        <span className="transfer-dialog__options">
          <label className="radio">
            <input
              type="radio"
              name="transfer-mode"
              value="warm"
              checked={mode === 'warm'}
              disabled={detail.channel === 'SP'}
              onChange={() => setMode('warm')}
            />
            <strong>{t('warm')}</strong> <span className="muted small">{t('warmHint')}</span>
          </label>
          <label className="radio">
            <input type="radio" name="transfer-mode" value="cold" checked={mode === 'cold'} onChange={() => setMode('cold')} />
            <strong>{t('cold')}</strong> <span className="muted small">{t('coldHint')}</span>
          </label>
        </span>
      </div>
      <label className="transfer-dialog__field transfer-dialog__note">
        <span className="transfer-dialog__label">{t('note')}</span>
        <textarea
          dir="auto"
          rows={2}
          maxLength={TRANSFER_NOTE_MAX}
          placeholder={t('notePlaceholder')}
          value={note}
          onChange={(e) => setNote(e.target.value)}
          data-testid="transfer-note"
        />
      </label>
      {error ? (
        <p className="error" role="alert" data-testid="transfer-error">
          <ServerError stored={error} />
        </p>
      ) : null}
      <div className="transfer-dialog__actions">
        <button type="submit" disabled={!target || sending} data-testid="transfer-send">
          {t('send')}
        </button>
        <button type="button" className="ghost" onClick={onClose}>
          {t('cancel')}
        </button>
      </div>
    </form>
  );
}

/** The sender's pending warm transfer: who must accept, the time left, and Cancel. */
export function OutgoingTransferBanner({ transfer }: { transfer: TransferView }) {
  const { t } = useTranslation('transfer');
  const cancel = useWorkstation((s) => s.cancelTransfer);
  const now = useNow();
  return (
    <div className="transfer-pending" role="status" data-testid="transfer-pending">
      <span className="transfer-pending__text">{t('pending', { to: transfer.offeredTo?.name ?? transfer.targetLabel })}</span>
      <span className="countdown">{t('secondsLeft', { count: secondsUntil(transfer.expiresAt, now) })}</span>
      <button type="button" className="ghost" onClick={() => void cancel(transfer.id)} data-testid="transfer-cancel">
        {t('cancelTransfer')}
      </button>
    </div>
  );
}

function SummaryLines({ transfer }: { transfer: Pick<TransferView, 'summary'> }) {
  const { t } = useTranslation('transfer');
  const { t: ta } = useTranslation('assist');
  // Worded in the desk's language from the summary's facts (issue 15), like the hand-over card.
  const linesOf = useSummaryLines();
  if (!transfer.summary) return null;
  return (
    <div className="transfer-summary" data-testid="transfer-summary">
      <span className="ai-mark" aria-hidden="true">
        {ta('aiMark')}
      </span>
      <strong>{t('summary')}</strong>
      {linesOf(transfer.summary).map((line, i) => (
        <p key={i} dir="auto">
          {line}
        </p>
      ))}
    </div>
  );
}

/** At the top of a transferred conversation: who passed it on, how, their note and the AI summary. */
export function TransferCard({ transfer }: { transfer: TransferView }) {
  const { t } = useTranslation('transfer');
  const { stamp } = useFormat();
  return (
    <section
      className="transfer-card"
      aria-label={t('transferredFrom', { name: transfer.from.name, mode: t(`modeName.${transfer.mode}`) })}
      data-testid="transfer-card"
    >
      <div className="transfer-card__head">
        <span className="transfer-icon" aria-hidden="true">
          ⇄
        </span>
        <strong>{t('transferredFrom', { name: transfer.from.name, mode: t(`modeName.${transfer.mode}`) })}</strong>
        <span className="muted small">{stamp(transfer.createdAt)}</span>
      </div>
      {transfer.note ? (
        <p className="transfer-card__note" dir="auto" data-testid="transfer-note-shown">
          {transferNoteText(transfer.note, t)}
        </p>
      ) : null}
      <SummaryLines transfer={transfer} />
    </section>
  );
}

/** Warm transfers offered to me: the contact, the sender, their note, the AI summary, Accept / Decline. */
export function IncomingTransfers() {
  const { t } = useTranslation('transfer');
  const nameOf = useCustomerName();
  const offers = useWorkstation((s) => s.incomingTransfers);
  const accept = useWorkstation((s) => s.acceptTransfer);
  const decline = useWorkstation((s) => s.declineTransfer);
  const [declining, setDeclining] = useState<string | null>(null);
  const [reason, setReason] = useState('');
  const now = useNow();
  const list = Object.values(offers).sort((a, b) => a.transfer.createdAt.localeCompare(b.transfer.createdAt));
  if (list.length === 0) return null;
  return (
    <section className="incoming-transfers" aria-label={t('incoming')}>
      {list.map(({ transfer, session }) => (
        <article key={transfer.id} className="incoming-transfer" data-testid="incoming-transfer">
          <header className="incoming-transfer__head">
            <span className="transfer-icon" aria-hidden="true">
              ⇄
            </span>
            <strong>{t('incoming')}</strong>
            <span className="countdown">{t('secondsLeft', { count: secondsUntil(transfer.expiresAt, now) })}</span>
          </header>
          <p className="incoming-transfer__who">
            <strong dir="auto">{nameOf(session.customerName)}</strong>{' '}
            <span className="muted">{t('from', { name: transfer.from.name })}</span>
          </p>
          {transfer.note ? (
            <p className="transfer-card__note" dir="auto">
              {transferNoteText(transfer.note, t)}
            </p>
          ) : null}
          <SummaryLines transfer={transfer} />
          {declining === transfer.id ? (
            <div className="incoming-transfer__actions">
              <input
                aria-label={t('declineReason')}
                placeholder={t('declineReason')}
                maxLength={TRANSFER_DECLINE_REASON_MAX}
                value={reason}
                onChange={(e) => setReason(e.target.value)}
                dir="auto"
              />
              <button
                type="button"
                className="danger"
                onClick={() => {
                  void decline(transfer.id, reason.trim() || undefined);
                  setDeclining(null);
                  setReason('');
                }}
              >
                {t('decline')}
              </button>
            </div>
          ) : (
            <div className="incoming-transfer__actions">
              <button type="button" onClick={() => void accept(transfer.id)} data-testid="transfer-accept">
                {t('accept')}
              </button>
              <button type="button" className="ghost" onClick={() => setDeclining(transfer.id)} data-testid="transfer-decline">
                {t('decline')}
              </button>
            </div>
          )}
        </article>
      ))}
    </section>
  );
}

/** The agents' record of a transfer in the transcript (a staff-only event message); null for other messages. */
export function TransferRecordLine({ message }: { message: MessageView }) {
  const { t } = useTranslation('transfer');
  const { stamp } = useFormat();
  if (message.kind !== 'event' || message.body.name !== TRANSFER_EVENT_NAME) return null;
  const data = TransferEventDataSchema.safeParse(message.body.data);
  if (!data.success) return null;
  const { from, to, targetLabel, mode, by } = data.data;
  return (
    <li className="transfer-record" data-testid="transfer-record">
      <span className="transfer-icon" aria-hidden="true">
        ⇄
      </span>{' '}
      {by
        ? t('reassigned', { by: by.name, from: from.name, to: to?.name ?? targetLabel })
        : t('record', { from: from.name, to: to?.name ?? targetLabel, mode: t(`modeName.${mode}`) })}{' '}
      · <time dateTime={message.receivedAt}>{stamp(message.receivedAt)}</time>
    </li>
  );
}

/**
 * What became of a transfer I sent, until dismissed: shown with no conversation open or with the
 * transferred one, not over another conversation (it would read as news about that one).
 */
export function TransferNotice() {
  const { t } = useTranslation('transfer');
  const notice = useWorkstation((s) => s.transferNotice);
  const openSessionId = useWorkstation((s) => s.openSessionId);
  const dismiss = useWorkstation((s) => s.dismissTransferNotice);
  if (!notice || (openSessionId && openSessionId !== notice.sessionId)) return null;
  const to = notice.offeredTo?.name ?? notice.targetLabel;
  const text =
    notice.status === 'accepted'
      ? t('notices.accepted', { to })
      : notice.status === 'declined'
        ? notice.declineReason
          ? t('notices.declinedWhy', { to, reason: notice.declineReason })
          : t('notices.declined', { to })
        : notice.status === 'expired'
          ? t('notices.expired', { to })
          : notice.status === 'routed'
            ? t('notices.routed', { to })
            : t('notices.cancelled');
  return (
    <div className={`transfer-notice transfer-notice--${notice.status}`} role="status" data-testid="transfer-notice">
      <span>{text}</span>
      <button type="button" className="linklike" onClick={dismiss}>
        {t('dismiss')}
      </button>
    </div>
  );
}
