import type { ChannelCode } from '../../../common/message/session-id';
import type { Tier } from '../../../common/routing/types';

/**
 * The contact event log (issue 16): append-only facts of the contact centre that the KPIs are
 * computed from (docs/kpis.md). Ids, codes, times and numbers only — never customer content.
 *
 * - `contact.created`: a session opened (a customer's first message on it); `data.movedFrom` when it
 *   carries an open conversation on from another channel (not a new contact for FCR).
 * - `contact.reopened`: a new session of a conversation that already had a closed one.
 * - `contact.queued`: the contact started to wait for a person (`data.waitingSince`, ms).
 * - `contact.offered`: offered to `agentId`.
 * - `contact.answered`: an agent accepted it (`data.waitMs`: queue wait; `data.transfer`: the accept of a transfer).
 * - `contact.abandoned`: closed after waiting for a person, before any agent answered (`data.waitMs`).
 * - `contact.transferred`: a transfer was made (`data.mode`, `data.fromAgentId`, `data.toSkillGroup`).
 * - `contact.wrapped-up`: closed by its agent with a wrap-up code (`data.disposition`, `data.resolvedOnFirstContact`).
 * - `contact.closed`: the session closed (`data.moved`: closed because the customer went on elsewhere).
 * - `ai.answered`: the AI tier sent an auto-answer. `ai.handed-over`: the contact left the AI for a person (`data.reason`).
 * - `csat.asked`: the survey was offered on close. `csat.answered`: the customer rated it (`data.score` 1..5).
 * - `sla.breached`: a response missed its SLA policy's target (`data.slaKind` `first` | `next`; server/src/sla/, docs/sla.md).
 * - `call.ringing` / `call.answered` / `call.ended` (issue 18, voice `SP`): an agent's phone rang, the
 *   agent picked up (`data.ringMs`: how long it rang), the call ended (`data.talkMs`: answered to hang-up,
 *   0 when never answered; `data.totalMs`: from the caller's INVITE).
 * - `agent.state`: an agent's state from `at` on (`data.state`, `data.groups`): `idle` (available, no
 *   contact), `handling` (holding a contact), `wrap-up` (after-call work), `away` (busy or away: not
 *   staffed for contacts), `offline`.
 */
export const KPI_EVENT_KINDS = [
  'contact.created',
  'contact.reopened',
  'contact.queued',
  'contact.offered',
  'contact.answered',
  'contact.abandoned',
  'contact.transferred',
  'contact.wrapped-up',
  'contact.closed',
  'ai.answered',
  'ai.handed-over',
  'csat.asked',
  'csat.answered',
  'agent.state',
  'sla.breached',
  'call.ringing',
  'call.answered',
  'call.ended',
] as const;
export type KpiEventKind = (typeof KPI_EVENT_KINDS)[number];

export type AgentKpiState = 'idle' | 'handling' | 'wrap-up' | 'away' | 'offline';

/** Facts beside the dimensions: numbers, codes and ids only. */
export interface KpiEventData {
  waitingSince?: number;
  waitMs?: number;
  transfer?: boolean;
  mode?: string;
  fromAgentId?: string;
  toSkillGroup?: string;
  disposition?: string;
  resolvedOnFirstContact?: boolean;
  moved?: boolean;
  movedFrom?: string;
  reason?: string;
  score?: number;
  state?: AgentKpiState;
  groups?: string[];
  slaKind?: 'first' | 'next';
  ringMs?: number;
  talkMs?: number;
  totalMs?: number;
}

/** One fact of the log. `at` in ms since the epoch; `id` makes appends idempotent (a redelivered bus event adds nothing). */
export interface KpiEvent {
  id: string;
  kind: KpiEventKind;
  at: number;
  sessionId: string | null;
  conversationId: string | null;
  customerId: string | null;
  skillGroup: string | null;
  channel: ChannelCode | null;
  tier: Tier | null;
  agentId: string | null;
  data: KpiEventData;
}

/** A fact with only the dimensions it has; the rest are null. */
export function kpiEvent(e: Pick<KpiEvent, 'id' | 'kind' | 'at'> & Partial<Omit<KpiEvent, 'id' | 'kind' | 'at'>>): KpiEvent {
  return {
    sessionId: null,
    conversationId: null,
    customerId: null,
    skillGroup: null,
    channel: null,
    tier: null,
    agentId: null,
    data: {},
    ...e,
  };
}
