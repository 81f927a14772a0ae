import type { SessionRecord } from '../sessions/store';

/** Shared by the KPI recorder's tests: a session of one customer and conversation at a fixed clock. */
export const T0 = Date.parse('2026-03-02T09:00:00Z');
export const iso = (t: number) => new Date(t).toISOString();
export const CONV = '0195f0a0-0000-7000-8000-000000000001';
export const CUST = '0195f0a0-0000-7000-8000-0000000000c1';

/** A session record of the fixture customer, queued at `T0`, with `over` applied. */
export function record(id: string, over: Partial<SessionRecord> = {}): SessionRecord {
  return {
    id,
    conversationId: CONV,
    customerId: CUST,
    channel: 'WB',
    status: 'queued',
    skillGroup: 'general',
    assignedAgentId: null,
    offeredAgentId: null,
    offerExpiresAt: null,
    routing: null,
    wrapUpCode: null,
    createdAt: iso(T0),
    updatedAt: iso(T0),
    waitingSince: iso(T0),
    closedAt: null,
    lastMessageAt: iso(T0),
    handover: null,
    movedTo: null,
    movedFrom: null,
    ...over,
  };
}
