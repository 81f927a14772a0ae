import { Fragment, useEffect, useLayoutEffect, useRef, useState, type FormEvent, type KeyboardEvent } from 'react';
import { WRAP_UP_CODES, type WrapUpCode } from '../../../../common/api/sessions';
import { MAX_TEXT_LENGTH, textOf } from '../../../../common/message/envelope';
import { hasNoBidiControl, hasVisibleText, truncateText } from '../../../../common/text/text';
import type { MessageDelivery } from '../../../../common/socket/agent-events';
import { useTranslation } from 'react-i18next';
import { useWorkstation } from '../context';
import { useFormat } from '../format';
import { ServerError } from './ServerError';
import { deliveryFailureText } from '../error-text';
import { EmotionBadge } from './EmotionBadge';
import { AiDraftBanner, AuthorMark, insertAt, SuggestionStrip, SummaryCard } from './Assist';
import { ImageMessage } from './ImageMessage';
import { MaskedText } from './MaskedText';
import { useRevealApi } from '../api/reveal';
import { FileMessage } from './FileMessage';
import { useAgentTyping, useReadReceipt } from './agent-receipts';
import { TRANSFER_EVENT_NAME } from '../../../../common/api/transfers';
import { ViewersBar } from './collision/ViewersBar';
import { ReadOnlyComposer } from './collision/ReadOnlyComposer';
import { OutgoingTransferBanner, TransferCard, TransferDialog, TransferNotice, TransferRecordLine } from './Transfer';
import { ChannelBadge, ChannelSwitch, FollowedNotice, channelsOf } from './Continuity';
import { NoteLine, isNote } from './supervision/NoteLine';
import { CannedList, useCannedPicker } from './canned/CannedPicker';
import { isImeComposing, sendsOnEnter } from './ime';
import { formatNumber, hasKey } from '../locale-format';
import { resources } from '../locales';
import { LocalHistoryPreview, OutboxBanner, PendingReplies, useLocalDraft } from './outbox/Outbox';
import { useSummaryLines } from './summary-lines';
import { useCustomerName } from '../customer-name';

export function Conversation() {
  const detail = useWorkstation((s) => s.detail);
  const userId = useWorkstation((s) => s.user?.id);
  const pending = useWorkstation((s) => s.pending);
  const send = useWorkstation((s) => s.send);
  const accept = useWorkstation((s) => s.accept);
  const closeSession = useWorkstation((s) => s.closeSession);
  const workError = useWorkstation((s) => s.workError);
  const loadOlder = useWorkstation((s) => s.loadOlder);
  const deliveries = useWorkstation((s) => s.deliveries);
  const customerTyping = useWorkstation((s) => (s.detail ? Boolean(s.customerTyping[s.detail.id]) : false));
  const loadingOlder = useWorkstation((s) => s.loadingOlder);
  const [draft, setDraft] = useState('');
  // Issue 15: the composer writes a reply to the customer, or an internal note for staff only.
  const [noteMode, setNoteMode] = useState(false);
  const addNote = useWorkstation((s) => s.addNote);
  const noteError = useWorkstation((s) => s.noteError);
  const { t: ts } = useTranslation('supervision');
  const [wrapUp, setWrapUp] = useState<WrapUpCode>('resolved');
  // "Resolved on first contact" (FCR): follows the code (ticked for `resolved`) until the agent sets it.
  const [firstContact, setFirstContact] = useState<boolean | null>(null);
  const resolvedFirst = firstContact ?? wrapUp === 'resolved';
  const [closing, setClosing] = useState(false);
  // AI assistance (issue 10): the AI draft in the composer, suggestions inserted at the cursor, the wrap-up note.
  const { t } = useTranslation('assist');
  const { t: td } = useTranslation('desk', { keyPrefix: 'conversation' });
  const { t: tq } = useTranslation('desk', { keyPrefix: 'queue' });
  const nameOf = useCustomerName();
  const fmt = useFormat();
  const token = useWorkstation((s) => s.token);
  const revealApi = useRevealApi();
  const discardDraft = useWorkstation((s) => s.discardDraft);
  const summarize = useWorkstation((s) => s.summarize);
  const linesOf = useSummaryLines();
  const [aiDraftId, setAiDraftId] = useState<string | null>(null);
  const [note, setNote] = useState('');
  const [noteLoading, setNoteLoading] = useState(false);
  // Issue 15: the composer's draft is kept per conversation (restored after a reload); local history first.
  useLocalDraft(detail, draft, setDraft, aiDraftId !== null, noteMode, setNoteMode);
  const previewing = useWorkstation((s) => Boolean(s.localPreview && s.localPreview.sessionId === s.openSessionId));
  const composerRef = useRef<HTMLTextAreaElement>(null);
  /** The draft already put in the composer (it is filled once, never over what the agent typed since). */
  const filledDraft = useRef<string | null>(null);
  const listRef = useRef<HTMLOListElement>(null);
  /** The list's height before older messages were prepended, to keep the reader's place. */
  const heightBeforeOlder = useRef<number | null>(null);
  const newestId = detail?.messages.at(-1)?.id;
  const oldestId = detail?.messages[0]?.id;
  const canReply = detail?.status === 'active' && detail.assignedAgentId === userId;
  const offeredDraft = canReply ? detail?.draft : undefined;
  // Issue 13: the visitor sees the agent typing (throttled) and "Read" on what the agent has seen.
  const typing = useAgentTyping(detail?.id ?? null, canReply);
  useReadReceipt(detail, canReply);
  // Transfers (issue 11): my pending one for this conversation (pushed, or read with the detail).
  const { t: tt } = useTranslation('transfer');
  const [transferring, setTransferring] = useState(false);
  const pushedTransfer = useWorkstation((s) => (detail ? s.outgoingTransfers[detail.id] : undefined));
  const outgoing =
    pushedTransfer ?? (detail?.transfer?.status === 'pending' && detail.transfer.from.id === userId ? detail.transfer : undefined);

  // Another conversation: an AI draft written for the previous customer never stays in the composer.
  // The same conversation on the customer's next channel (issue 12, `movedFrom`) keeps the composer as it is.
  const heldDraft = useRef<string | null>(null);
  heldDraft.current = aiDraftId;
  const shownId = useRef<string | null>(null);
  useEffect(() => {
    const previous = shownId.current;
    shownId.current = detail?.id ?? null;
    if (previous && detail?.movedFrom === previous) return;
    if (heldDraft.current) setDraft('');
    setAiDraftId(null);
    setClosing(false);
    setTransferring(false);
    filledDraft.current = null;
  }, [detail?.id]);
  // The assisted tier's draft is in the composer when the agent has the contact, for review.
  useEffect(() => {
    if (!offeredDraft || filledDraft.current === offeredDraft.id) return;
    filledDraft.current = offeredDraft.id;
    setDraft(offeredDraft.text);
    setAiDraftId(offeredDraft.id);
  }, [offeredDraft]);

  // A new message (or a pending reply) scrolls to the bottom; an older page keeps the reader's place.
  useEffect(() => {
    listRef.current?.scrollTo({ top: listRef.current.scrollHeight });
  }, [newestId, pending.length]);
  useLayoutEffect(() => {
    const list = listRef.current;
    if (list && heightBeforeOlder.current !== null) list.scrollTop += list.scrollHeight - heightBeforeOlder.current;
    heightBeforeOlder.current = null;
  }, [oldestId]);
  // Issue 15: `/` and a shortcut in a reply searches the canned replies; choosing one replaces the `/word`.
  const [cursor, setCursor] = useState(0);
  const canned = useCannedPicker(draft, cursor, noteMode ? null : token, (next) => {
    setDraft(next.value);
    setCursor(next.cursor);
    requestAnimationFrame(() => composerRef.current?.setSelectionRange(next.cursor, next.cursor));
  });
  const showOlder = () => {
    heightBeforeOlder.current = listRef.current?.scrollHeight ?? null;
    void loadOlder();
  };

  if (previewing) return <LocalHistoryPreview />;
  if (!detail) {
    return (
      <section className="conversation conversation--empty">
        <TransferNotice />
        <p>{td('selectContact')}</p>
        {workError ? (
          <p className="error" role="alert">
            <ServerError stored={workError} />
          </p>
        ) : null}
      </section>
    );
  }

  const mine = canReply;
  const submit = (e?: FormEvent) => {
    e?.preventDefault();
    const text = draft.trim();
    // The server refuses text with no visible character (zero-width spaces, fillers), and staff text
    // with a bidi override/isolate control (security/invisible-text): so do we, before sending.
    if (!hasVisibleText(text) || !hasNoBidiControl(text)) return;
    if (noteMode) {
      // A note never reaches the customer: no typing indicator, no AI draft bookkeeping.
      void addNote(text).then((ok) => ok && setDraft((current) => (current === draft ? '' : current)));
      return;
    }
    setDraft('');
    typing.stop();
    // Sent from the AI draft: the server compares the texts and records accepted or edited.
    void send(text, aiDraftId ?? undefined);
    setAiDraftId(null);
  };
  const discard = () => {
    setDraft('');
    setAiDraftId(null);
    void discardDraft();
  };
  const insert = (text: string) => {
    const at = insertAt(draft, text, composerRef.current?.selectionStart ?? null);
    setDraft(at.value);
    requestAnimationFrame(() => {
      composerRef.current?.focus();
      composerRef.current?.setSelectionRange(at.cursor, at.cursor);
    });
  };
  const startWrapUp = () => {
    setClosing(true);
    setFirstContact(null);
    setNote('');
    setNoteLoading(true);
    // The wrap-up note starts as the conversation's summary; the agent edits it.
    void summarize().then((summary) => {
      setNoteLoading(false);
      if (summary) setNote((current) => current || truncateText(linesOf(summary).join('\n'), 2000));
    });
  };
  const latestCustomer = detail.messages.findLast((m) => m.direction === 'in');
  // Issue 12: badges only when the conversation went over more than one channel.
  const multiChannel = channelsOf(detail.messages).length > 1;
  const onKey = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    // An input method's Enter confirms a candidate (pinyin): neither a canned pick nor a send.
    if (isImeComposing(e)) return;
    // Issue 15: while a `/word` is open, ↑ ↓ Enter Tab Esc are the canned-reply picker's.
    if (canned.onKeyDown(e)) return;
    if (sendsOnEnter(e)) {
      e.preventDefault();
      submit();
    }
  };

  return (
    <section className="conversation" aria-label={td('label')}>
      <header className="conversation__head">
        <div>
          <h2 data-testid="conversation-customer">
            <MaskedText
              text={nameOf(detail.customerName)}
              reveal={async () => (token ? ((await revealApi.customer(token, detail.customerId, 'name')).values[0] ?? null) : null)}
            />
          </h2>
          <p className="muted">
            <ChannelBadge channel={detail.channel} /> <code data-testid="session-id">{detail.id}</code> · {detail.skillGroup}
          </p>
        </div>
        <div className="conversation__actions">
          {detail.tier ? (
            <span className={`tier tier--${detail.tier}`} data-tier={detail.tier}>
              {tq(`tiers.${detail.tier}`)}
            </span>
          ) : null}
          {detail.priority !== null ? (
            <span className="prio" title={tq('priorityTitle', { value: detail.priority.toFixed(0) })}>
              {tq('priority', { value: detail.priority.toFixed(0) })}
            </span>
          ) : null}
          {mine ? (
            closing ? (
              <span className="wrapup">
                <select
                  aria-label={td('wrapUpCode')}
                  value={wrapUp}
                  onChange={(e) => setWrapUp(e.target.value as WrapUpCode)}
                  data-testid="wrapup-code"
                >
                  {WRAP_UP_CODES.map((c) => (
                    <option key={c} value={c}>
                      {td(`wrapUpCodes.${c}`)}
                    </option>
                  ))}
                </select>
                <label className="wrapup__fcr">
                  <input
                    type="checkbox"
                    checked={resolvedFirst}
                    onChange={(e) => setFirstContact(e.target.checked)}
                    data-testid="wrapup-fcr"
                  />
                  {td('resolvedOnFirstContact')}
                </label>
                <button
                  type="button"
                  className="danger"
                  onClick={() => void closeSession(wrapUp, note.trim() || undefined, resolvedFirst).then(() => setClosing(false))}
                  data-testid="wrapup-close"
                >
                  {td('close')}
                </button>
                <button type="button" className="ghost" onClick={() => setClosing(false)}>
                  {td('cancel')}
                </button>
              </span>
            ) : (
              <>
                {outgoing ? null : (
                  <button type="button" className="ghost" onClick={() => setTransferring((v) => !v)} data-testid="transfer-button">
                    {tt('button')}
                  </button>
                )}
                <button type="button" className="ghost" onClick={startWrapUp} data-testid="wrapup-button">
                  {td('wrapUp')}
                </button>
              </>
            )
          ) : null}
          {detail.status === 'queued' || detail.status === 'offered' ? (
            <button type="button" onClick={() => void accept(detail.id)}>
              {td('accept')}
            </button>
          ) : null}
          {detail.status === 'bot' ? (
            <button type="button" onClick={() => void accept(detail.id)} data-testid="take-over">
              {td('takeOver')}
            </button>
          ) : null}
        </div>
      </header>
      <ViewersBar sessionId={detail.id} />
      {mine && closing ? (
        <div className="wrapup-note">
          <textarea
            aria-label={t('wrapUpNote')}
            placeholder={noteLoading ? t('wrapUpNoteLoading') : t('wrapUpNote')}
            dir="auto"
            rows={4}
            maxLength={2000}
            value={note}
            onChange={(e) => setNote(e.target.value)}
            data-testid="wrapup-note"
          />
        </div>
      ) : null}
      {mine && transferring && !outgoing ? <TransferDialog detail={detail} onClose={() => setTransferring(false)} /> : null}
      {mine && outgoing ? <OutgoingTransferBanner transfer={outgoing} /> : null}
      <TransferNotice />
      <FollowedNotice />
      {detail.transfer && detail.transfer.status !== 'pending' && detail.transfer.from.id !== userId ? (
        <TransferCard transfer={detail.transfer} />
      ) : null}
      {detail.summary ? <SummaryCard summary={detail.summary} /> : null}
      <ol className="messages" ref={listRef} data-testid="messages">
        {detail.hasOlderMessages ? (
          <li className="messages__older">
            <button type="button" className="linklike" onClick={showOlder} disabled={loadingOlder} data-testid="load-older">
              {loadingOlder ? td('loadingOlder') : td('showOlder')}
            </button>
          </li>
        ) : null}
        {detail.messages.map((m, i) => {
          const previous = i > 0 ? detail.messages[i - 1] : undefined;
          const line =
            m.kind === 'event' && m.body.name === TRANSFER_EVENT_NAME ? (
              <TransferRecordLine key={m.id} message={m} />
            ) : isNote(m) ? (
              <NoteLine key={m.id} message={m} />
            ) : (
              <li
                key={m.id}
                className={`bubble bubble--${m.direction}${m.author === 'ai' || m.author === 'system' ? ` bubble--${m.author}` : ''}`}
                data-testid={m.direction === 'in' ? 'customer-message' : 'agent-message'}
                data-author={m.author}
                data-channel={m.channel}
              >
                {m.kind === 'image' ? (
                  <ImageMessage message={m} />
                ) : m.kind === 'file' ? (
                  <FileMessage message={m} />
                ) : (
                  <MaskedText
                    className="bubble__text"
                    text={textOf(m)}
                    reveal={async () => (token ? (await revealApi.message(token, m.sessionId, m.id)).text : null)}
                  />
                )}
                <span className="bubble__meta">
                  <AuthorMark author={m.author} />
                  {m.direction === 'in' ? <EmotionBadge emotion={m.emotion} /> : null}
                  {multiChannel ? <ChannelBadge channel={m.channel} /> : null}
                  <time dateTime={m.receivedAt} title={fmt.dateTime(m.receivedAt)}>
                    {fmt.stamp(m.receivedAt)}
                  </time>{' '}
                  · #{m.seq}
                  {m.direction === 'out' && deliveries[m.id] ? <DeliveryMark delivery={deliveries[m.id]!} /> : null}
                </span>
              </li>
            );
          return previous && previous.channel !== m.channel ? (
            <Fragment key={m.id}>
              <ChannelSwitch from={previous.channel} to={m.channel} at={m.receivedAt} />
              {line}
            </Fragment>
          ) : (
            line
          );
        })}
        <PendingReplies sessionId={detail.id} />
      </ol>
      {customerTyping && detail.status !== 'closed' ? (
        <p className="typing-note" role="status" data-testid="customer-typing">
          {td('typing')}
        </p>
      ) : null}
      <OutboxBanner />
      {workError ? (
        <p className="error" role="alert">
          <ServerError stored={workError} />
        </p>
      ) : null}
      {detail.status === 'closed' ? (
        <p className="closed-note" data-testid="closed-note" data-wrap-up-code={detail.wrapUpCode ?? undefined}>
          {detail.wrapUpCode ? td('closedWith', { code: td(`wrapUpCodes.${detail.wrapUpCode}`) }) : td('closed')}
        </p>
      ) : mine ? (
        <div className="composer-area">
          <SuggestionStrip latest={latestCustomer} onInsert={insert} />
          {aiDraftId && detail.draft ? <AiDraftBanner draft={detail.draft} onDiscard={discard} /> : null}
          <div className="composer-modes" role="group" aria-label={ts('composerMode')}>
            <button type="button" className="ghost" aria-pressed={!noteMode} onClick={() => setNoteMode(false)} data-testid="mode-reply">
              {ts('modeReply')}
            </button>
            <button
              type="button"
              className="ghost composer-modes__note"
              aria-pressed={noteMode}
              onClick={() => setNoteMode(true)}
              data-testid="mode-note"
            >
              {ts('modeNote')}
            </button>
          </div>
          {noteMode && noteError ? (
            <p className="error" role="alert">
              {hasKey(resources.en.supervision.errors, noteError) ? ts(`errors.${noteError}`) : ts('errors.fallback')}
            </p>
          ) : null}
          <CannedList picker={canned} />
          {hasNoBidiControl(draft) ? null : (
            <p className="error" role="alert" data-testid="composer-bidi">
              {td('bidiControl')}
            </p>
          )}
          {draft.length >= MAX_TEXT_LENGTH ? (
            // The textarea's maxLength drops the rest of a longer paste silently: say so.
            <p className="composer-limit" role="status" data-testid="composer-limit">
              {td('textLimit', { max: formatNumber(MAX_TEXT_LENGTH, fmt.locale, 0) })}
            </p>
          ) : null}
          <form className={`composer${aiDraftId ? ' composer--ai-draft' : ''}${noteMode ? ' composer--note' : ''}`} onSubmit={submit}>
            <textarea
              ref={composerRef}
              aria-label={noteMode ? ts('note') : td('reply')}
              dir="auto"
              placeholder={noteMode ? ts('notePlaceholder') : td('replyPlaceholder')}
              value={draft}
              data-testid="composer"
              onChange={(e) => {
                setDraft(e.target.value);
                setCursor(e.target.selectionStart);
                if (!noteMode) typing.keyed();
              }}
              onSelect={(e) => setCursor(e.currentTarget.selectionStart)}
              onKeyDown={onKey}
              rows={aiDraftId ? 6 : 3}
              maxLength={MAX_TEXT_LENGTH}
            />
            <button type="submit" disabled={!hasVisibleText(draft) || !hasNoBidiControl(draft)} data-testid="composer-submit">
              {noteMode ? ts('addNote') : td('send')}
            </button>
          </form>
        </div>
      ) : (
        <>
          <ReadOnlyComposer detail={detail} />
          <p className="closed-note">{detail.status === 'bot' ? td('botAnswering') : td('acceptToReply')}</p>
        </>
      )}
    </section>
  );
}

/** How far a reply got on the customer's channel: ✓ sent, ✓✓ delivered or read, or why it failed. */
function DeliveryMark({ delivery }: { delivery: MessageDelivery }) {
  const { t, i18n } = useTranslation('desk', { keyPrefix: 'conversation' });
  if (delivery.state === 'failed') {
    // A sentence in the UI language for every code (the server's English `message` is never shown).
    const why = deliveryFailureText(i18n, delivery.error);
    return (
      <span className="delivery delivery--failed" data-testid="delivery" data-code={delivery.error?.code} role="status">
        {t('notDelivered', { why })}
      </span>
    );
  }
  const label = t(`delivery.${delivery.state}`);
  return (
    <span className={`delivery delivery--${delivery.state}`} data-testid="delivery" title={label} aria-label={label}>
      {' '}
      · {delivery.state === 'sent' ? '✓' : '✓✓'}
    </span>
  );
}
