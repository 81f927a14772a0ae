import { useCallback, useEffect, useState, type FormEvent } from 'react';
import type { CustomerIdentitiesView, CustomerLookupView, CustomerMergeView } from '../../../../common/api/customers';
import type { MessageView } from '../../../../common/api/sessions';
import { HuiliuError } from '../../../../common/errors/codes';
import { textOf, type IdentityLinkKind } from '../../../../common/message/envelope';
import { CHANNEL_NAMES, type ChannelCode } from '../../../../common/message/session-id';
import { useCustomersApi, type CustomerLookup } from '../api/customers';
import { useRevealApi } from '../api/reveal';
import { MaskedText } from './MaskedText';
import type { TFunction } from 'i18next';
import { useTranslation } from 'react-i18next';
import { useWorkstation } from '../context';
import { useFormat } from '../format';
import { useStaff } from '../staff';
import { ChannelBadge } from './Continuity';
import { useCustomerName } from '../customer-name';

const CHANNELS = Object.keys(CHANNEL_NAMES) as ChannelCode[];
const LINK_KINDS: IdentityLinkKind[] = ['phone', 'email', 'wechat-unionid'];

type T = TFunction<'continuity'>;

/** An error of the customer routes in the agent's words (by its code; never the raw body). */
export function continuityError(t: T, error: unknown): string {
  if (!(error instanceof HuiliuError)) return t('errors.other');
  if ((error.details as { network?: boolean } | undefined)?.network === true) return t('errors.network');
  switch (error.code) {
    case 'NOT_FOUND':
      return t('errors.notFound');
    case 'MERGE_SAME_CUSTOMER':
      return t('errors.sameCustomer');
    case 'MERGE_ALREADY_UNDONE':
      return t('errors.alreadyUndone');
    case 'LINK_CONFLICT':
      return t('errors.linkConflict');
    case 'VALIDATION_FAILED':
      return t('errors.invalid');
    case 'FORBIDDEN':
      return t('errors.forbidden');
    default:
      return t('errors.other');
  }
}

/** Who did a merge or undo, in words: the server, the viewer, a named colleague or "a colleague". */
function useWho(t: T) {
  const me = useWorkstation((s) => s.user?.id);
  const staff = useStaff();
  return (by: string) => {
    if (by === 'system') return t('panel.bySystem');
    if (by === me) return t('panel.byYou');
    const named = staff.find((u) => u.id === by);
    return named ? named.displayName : t('panel.byColleague');
  };
}

/** A merge's reason in words: by hand, or the verified id two customers shared (`link:<kind>`). */
function reasonText(t: T, reason: string): string {
  if (reason.startsWith('link:')) {
    const kind = reason.slice(5);
    return (LINK_KINDS as string[]).includes(kind) ? t(`panel.reasons.link.${kind as IdentityLinkKind}`) : t('panel.reasons.agent');
  }
  return t('panel.reasons.agent');
}

/**
 * The customer panel's "Channels & identities" (issue 12): the person's channels with masked ids, the
 * verified links with where they came from, the merges with who and when and Undo, and the actions
 * Merge with another customer and Add verified phone or e-mail. Re-read when the open chat's customer
 * or channels change (a move, a merge).
 */
export function CustomerIdentities(props: {
  customerId: string;
  groupId: string;
  /** The name the agent sees the customer by (the conversation's). */
  name: string;
  refreshKey: string;
}) {
  const { customerId, groupId, refreshKey } = props;
  const api = useCustomersApi();
  const token = useWorkstation((s) => s.token);
  const openId = useWorkstation((s) => s.openSessionId);
  const refreshOpen = useWorkstation((s) => s.refreshOpen);
  const { t } = useTranslation('continuity');
  const { stamp } = useFormat();
  const who = useWho(t);
  const [view, setView] = useState<CustomerIdentitiesView | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [panel, setPanel] = useState<'none' | 'merge' | 'link'>('none');
  /** A lookup to start the merge dialog with (after a LINK_CONFLICT). */
  const [preset, setPreset] = useState<CustomerLookup | null>(null);

  const load = useCallback(async () => {
    if (!token) return;
    try {
      setView(await api.identities(token, customerId));
      setError(null);
    } catch (e) {
      setError(continuityError(t, e));
    }
  }, [api, token, customerId, t]);
  useEffect(() => {
    setView(null);
    setPanel('none');
    setNotice(null);
  }, [customerId]);
  useEffect(() => {
    void load();
  }, [load, refreshKey]);

  /** After a merge or undo: the panel, and the open chat's context (its channels), read again. */
  const changed = async (message: string) => {
    setNotice(message);
    await load();
    if (openId) await refreshOpen(openId);
  };
  const undo = async (merge: CustomerMergeView) => {
    if (!token) return;
    setBusy(true);
    try {
      await api.undo(token, merge.id);
      await changed(t('panel.undone'));
    } catch (e) {
      setError(continuityError(t, e));
    } finally {
      setBusy(false);
    }
  };

  const nameOf = useCustomerName();
  const survivorId = view?.groupId ?? groupId;
  const members = view?.members ?? [];
  return (
    <section data-testid="identities">
      <h3>{t('panel.title')}</h3>
      {error ? (
        <p className="error error--inline" role="alert" data-testid="identities-error">
          {error}{' '}
          <button type="button" className="linklike" onClick={() => void load()}>
            {t('panel.retry')}
          </button>
        </p>
      ) : null}
      {notice ? (
        <p className="ok-notice" role="status" data-testid="identities-notice">
          {notice}
        </p>
      ) : null}
      {!view ? (
        error ? null : (
          <p className="muted small">{t('panel.loading')}</p>
        )
      ) : (
        <>
          {members.length > 1 ? (
            <p className="small" data-testid="identities-members" dir="auto">
              {t('panel.members', { names: members.map((m) => nameOf(m.name)).join(' · ') })}
            </p>
          ) : null}
          <ul className="idlist" aria-label={t('panel.channels')}>
            {view.identities.map((i) => (
              <li key={`${i.channel}:${i.externalId}`} data-testid="identity">
                <ChannelBadge channel={i.channel} /> <code className="idlist__value">{i.externalId}</code>
              </li>
            ))}
          </ul>
          <h4 className="context__sub">{t('panel.links')}</h4>
          {view.links.length === 0 ? (
            <p className="muted small">{t('panel.noLinks')}</p>
          ) : (
            <ul className="idlist" aria-label={t('panel.links')}>
              {view.links.map((l) => (
                <li key={`${l.kind}:${l.value}`} data-testid="identity-link">
                  <span className="idlist__kind">{t(`panel.linkKinds.${l.kind}`)}</span> <code className="idlist__value">{l.value}</code>{' '}
                  <span className="muted">· {sourceText(t, l.source, who)}</span>
                </li>
              ))}
            </ul>
          )}
          {view.merges.length > 0 ? (
            <>
              <h4 className="context__sub">{t('panel.merges')}</h4>
              <ul className="idlist" aria-label={t('panel.merges')}>
                {view.merges.map((m) => (
                  <li key={m.id} data-testid="merge" className={m.undoneAt ? 'idlist__undone' : undefined}>
                    <span>
                      {reasonText(t, m.reason)} · {t('panel.mergedBy', { who: who(m.by), when: stamp(m.at) })}
                    </span>
                    {m.undoneAt ? (
                      <span className="muted small" data-testid="merge-undone">
                        {t('panel.undoneBy', { who: who(m.undoneBy ?? ''), when: stamp(m.undoneAt) })}
                      </span>
                    ) : (
                      <button
                        type="button"
                        className="ghost small-button"
                        disabled={busy}
                        onClick={() => void undo(m)}
                        data-testid="undo-merge"
                      >
                        {t('panel.undo')}
                      </button>
                    )}
                  </li>
                ))}
              </ul>
            </>
          ) : null}
        </>
      )}
      <div className="identity-actions">
        <button
          type="button"
          className="linklike"
          onClick={() => {
            setPreset(null);
            setPanel(panel === 'merge' ? 'none' : 'merge');
          }}
          data-testid="merge-open"
        >
          {t('merge.open')}
        </button>
        <button type="button" className="linklike" onClick={() => setPanel(panel === 'link' ? 'none' : 'link')} data-testid="link-open">
          {t('link.open')}
        </button>
      </div>
      {panel === 'merge' ? (
        <MergeDialog
          key={preset ? JSON.stringify(preset) : 'blank'}
          survivorId={survivorId}
          selfName={props.name}
          preset={preset}
          onDone={async () => {
            setPanel('none');
            await changed(t('merge.merged'));
          }}
          onCancel={() => setPanel('none')}
        />
      ) : null}
      {panel === 'link' ? (
        <LinkForm
          customerId={customerId}
          onAdded={async () => {
            setPanel('none');
            await changed(t('link.added'));
          }}
          onMergeWithHolder={(lookup) => {
            setPreset(lookup);
            setPanel('merge');
          }}
          onCancel={() => setPanel('none')}
        />
      ) : null}
    </section>
  );
}

/** Where a verified link came from: the channel that vouched for it, or an agent (`agent:<id>`). */
function sourceText(t: T, source: string, who: (by: string) => string): string {
  if (source.startsWith('agent:')) {
    const by = who(source.slice(6));
    return by === t('panel.byYou') ? t('panel.sourceSelf') : t('panel.sourceAgent');
  }
  if (source === 'WB:pre-chat') return t('panel.sourcePreChat');
  return source in CHANNEL_NAMES ? t('panel.sourceChannel', { channel: t(`channels.${source as ChannelCode}`) }) : source;
}

type LookupBy = IdentityLinkKind | 'channel';

/** Find another customer by a verified id or a channel identity, see who it is, and merge after a confirmation. */
function MergeDialog(props: {
  survivorId: string;
  selfName: string;
  preset: CustomerLookup | null;
  onDone: () => Promise<void>;
  onCancel: () => void;
}) {
  const api = useCustomersApi();
  const token = useWorkstation((s) => s.token);
  const { t } = useTranslation('continuity');
  const [by, setBy] = useState<LookupBy>(props.preset ? ('kind' in props.preset ? props.preset.kind : 'channel') : 'phone');
  const [value, setValue] = useState(props.preset && 'kind' in props.preset ? props.preset.value : '');
  const [channel, setChannel] = useState<ChannelCode>(props.preset && 'channel' in props.preset ? props.preset.channel : 'WX');
  const [externalId, setExternalId] = useState('');
  const [found, setFound] = useState<CustomerLookupView | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const find = async (query: CustomerLookup) => {
    if (!token) return;
    setBusy(true);
    setFound(null);
    setError(null);
    try {
      const customer = await api.lookup(token, query);
      if (customer.groupId === props.survivorId) setError(t('merge.sameAlready'));
      else setFound(customer);
    } catch (e) {
      setError(continuityError(t, e));
    } finally {
      setBusy(false);
    }
  };
  useEffect(() => {
    if (props.preset) void find(props.preset);
    // Only the preset the dialog opened with is looked up at once.
  }, []);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const query: CustomerLookup = by === 'channel' ? { channel, externalId: externalId.trim() } : { kind: by, value: value.trim() };
    if (('value' in query ? query.value : query.externalId) === '') return;
    void find(query);
  };
  const merge = async () => {
    if (!token || !found) return;
    setBusy(true);
    setError(null);
    try {
      await api.merge(token, props.survivorId, found.groupId);
      await props.onDone();
    } catch (e) {
      setError(continuityError(t, e));
      setBusy(false);
    }
  };

  return (
    <div className="identity-dialog" data-testid="merge-dialog" role="group" aria-label={t('merge.title')}>
      <form onSubmit={submit} className="identity-dialog__form">
        <label>
          {t('merge.by')}
          <select value={by} onChange={(e) => setBy(e.target.value as LookupBy)} data-testid="merge-by">
            {LINK_KINDS.map((k) => (
              <option key={k} value={k}>
                {t(`panel.linkKinds.${k}`)}
              </option>
            ))}
            <option value="channel">{t('merge.byChannel')}</option>
          </select>
        </label>
        {by === 'channel' ? (
          <>
            <label>
              {t('merge.channel')}
              <select value={channel} onChange={(e) => setChannel(e.target.value as ChannelCode)} data-testid="merge-channel">
                {CHANNELS.map((c) => (
                  <option key={c} value={c}>
                    {t(`channels.${c}`)}
                  </option>
                ))}
              </select>
            </label>
            <label>
              {t('merge.externalId')}
              <input value={externalId} onChange={(e) => setExternalId(e.target.value)} maxLength={512} data-testid="merge-external-id" />
            </label>
          </>
        ) : (
          <label>
            {t('merge.value')}
            <input value={value} onChange={(e) => setValue(e.target.value)} maxLength={256} data-testid="merge-value" />
          </label>
        )}
        <div className="identity-dialog__buttons">
          <button type="submit" disabled={busy} data-testid="merge-find">
            {busy && !found ? t('merge.finding') : t('merge.find')}
          </button>
          <button type="button" className="ghost" onClick={props.onCancel}>
            {t('merge.cancel')}
          </button>
        </div>
      </form>
      {error ? (
        <p className="error error--inline" role="alert" data-testid="merge-error">
          {error}
        </p>
      ) : null}
      {found ? (
        <div className="identity-found" data-testid="merge-found">
          <p className="identity-found__who">
            <span className="muted small">{t('merge.found')}:</span>{' '}
            <strong dir="auto" data-testid="merge-found-name">
              {found.name}
            </strong>{' '}
            {found.channels.map((c) => (
              <ChannelBadge key={c} channel={c} />
            ))}
          </p>
          <p className="small" dir="auto">
            {t('merge.confirm', { other: found.name, self: props.selfName })}
          </p>
          <div className="identity-dialog__buttons">
            <button type="button" disabled={busy} onClick={() => void merge()} data-testid="merge-confirm">
              {t('merge.merge')}
            </button>
            <button type="button" className="ghost" onClick={props.onCancel}>
              {t('merge.cancel')}
            </button>
          </div>
        </div>
      ) : null}
    </div>
  );
}

/** A phone number or e-mail address the agent verified with the customer; LINK_CONFLICT offers the merge. */
function LinkForm(props: {
  customerId: string;
  onAdded: () => Promise<void>;
  onMergeWithHolder: (lookup: CustomerLookup) => void;
  onCancel: () => void;
}) {
  const api = useCustomersApi();
  const token = useWorkstation((s) => s.token);
  const { t } = useTranslation('continuity');
  const [kind, setKind] = useState<'phone' | 'email'>('phone');
  const [value, setValue] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [conflict, setConflict] = useState<{ holderVisible: boolean; lookup: CustomerLookup } | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const v = value.trim();
    if (!token || !v) return;
    setBusy(true);
    setError(null);
    setConflict(null);
    try {
      await api.link(token, props.customerId, { kind, value: v });
      await props.onAdded();
    } catch (err) {
      if (err instanceof HuiliuError && err.code === 'LINK_CONFLICT') {
        const holder = (err.details as { customerId?: string } | undefined)?.customerId;
        setConflict({ holderVisible: Boolean(holder), lookup: { kind, value: v } });
      } else {
        setError(continuityError(t, err));
      }
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="identity-dialog identity-dialog__form" onSubmit={(e) => void submit(e)} data-testid="link-form">
      <label>
        {t('link.kind')}
        <select value={kind} onChange={(e) => setKind(e.target.value as 'phone' | 'email')} data-testid="link-kind">
          <option value="phone">{t('panel.linkKinds.phone')}</option>
          <option value="email">{t('panel.linkKinds.email')}</option>
        </select>
      </label>
      <label>
        {t('link.value')}
        <input
          value={value}
          onChange={(e) => setValue(e.target.value)}
          maxLength={256}
          inputMode={kind === 'phone' ? 'tel' : 'email'}
          data-testid="link-value"
        />
      </label>
      <div className="identity-dialog__buttons">
        <button type="submit" disabled={busy || !value.trim()} data-testid="link-add">
          {t('link.add')}
        </button>
        <button type="button" className="ghost" onClick={props.onCancel}>
          {t('link.cancel')}
        </button>
      </div>
      {error ? (
        <p className="error error--inline" role="alert" data-testid="link-error">
          {error}
        </p>
      ) : null}
      {conflict ? (
        <div className="identity-conflict" role="alert" data-testid="link-conflict">
          <span>{conflict.holderVisible ? t('link.conflict') : t('link.conflictHidden')}</span>
          {conflict.holderVisible ? (
            <button
              type="button"
              className="ghost"
              onClick={() => props.onMergeWithHolder(conflict.lookup)}
              data-testid="link-merge-holder"
            >
              {t('link.mergeWithHolder')}
            </button>
          ) : null}
        </div>
      ) : null}
    </form>
  );
}

/**
 * The person's whole history over every channel and conversation (`GET …/timeline`), newest first,
 * read when opened and paged back with "Load older".
 */
export function FullHistory({ customerId }: { customerId: string }) {
  const api = useCustomersApi();
  const revealApi = useRevealApi();
  const token = useWorkstation((s) => s.token);
  const { t } = useTranslation('continuity');
  const fmt = useFormat();
  const [open, setOpen] = useState(false);
  const [messages, setMessages] = useState<MessageView[]>([]);
  const [hasOlder, setHasOlder] = useState(false);
  const [loading, setLoading] = useState(false);
  const [loaded, setLoaded] = useState(false);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    setMessages([]);
    setHasOlder(false);
    setLoaded(false);
  }, [customerId]);
  const page = useCallback(
    async (before?: string) => {
      if (!token) return;
      setLoading(true);
      setError(null);
      try {
        const view = await api.timeline(token, customerId, before);
        setMessages((shown) => {
          const known = new Set(shown.map((m) => m.id));
          return before ? [...shown, ...view.messages.filter((m) => !known.has(m.id))] : view.messages;
        });
        setHasOlder(view.hasOlder);
        setLoaded(true);
      } catch (e) {
        setError(continuityError(t, e));
      } finally {
        setLoading(false);
      }
    },
    [api, token, customerId, t],
  );
  useEffect(() => {
    if (open && !loaded && !loading) void page();
    // Read once per opening of a customer; "Load older" pages on.
  }, [open, loaded]);

  return (
    <section data-testid="full-history">
      <details className="context__fold" open={open} onToggle={(e) => setOpen((e.target as HTMLDetailsElement).open)}>
        <summary>
          <h3>{t('history.title')}</h3>
        </summary>
        {error ? (
          <p className="error error--inline" role="alert">
            {error}
          </p>
        ) : null}
        {loaded && messages.length === 0 ? <p className="muted small">{t('history.empty')}</p> : null}
        <ol className="timeline" data-testid="timeline">
          {messages.map((m) => (
            <li
              key={m.id}
              className={`timeline__item timeline__item--${m.direction}`}
              data-testid="timeline-message"
              data-channel={m.channel}
            >
              <span className="timeline__meta">
                <ChannelBadge channel={m.channel} />{' '}
                <time dateTime={m.receivedAt} title={fmt.dateTime(m.receivedAt)}>
                  {fmt.stamp(m.receivedAt)}
                </time>
              </span>
              <MaskedText
                className="timeline__text"
                text={textOf(m)}
                reveal={async () => (token ? (await revealApi.message(token, m.sessionId, m.id)).text : null)}
              />
            </li>
          ))}
        </ol>
        {loading ? <p className="muted small">{t('history.loading')}</p> : null}
        {hasOlder && !loading ? (
          <button type="button" className="linklike" onClick={() => void page(messages.at(-1)?.id)} data-testid="timeline-older">
            {t('history.loadOlder')}
          </button>
        ) : null}
      </details>
    </section>
  );
}
