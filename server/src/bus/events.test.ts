import { describe, expect, it } from 'vitest';
import { BusEventSchema } from '../../../common/events/events';
import type { SessionRecord } from '../sessions/store';
import { newEvent, onceById, sessionChanged } from './events';

const session: SessionRecord = {
  id: 'WB169208100012348213',
  conversationId: '01a217af-518a-76c9-b3e0-cc994d61d476',
  customerId: '01a217af-518a-76c9-b3e0-cc994d61d475',
  channel: 'WB',
  status: 'offered',
  skillGroup: 'general',
  assignedAgentId: null,
  offeredAgentId: 'agent-7',
  offerExpiresAt: '2026-01-01T00:00:20.000Z',
  routing: null,
  wrapUpCode: null,
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
  waitingSince: '2026-01-01T00:00:00.000Z',
  closedAt: null,
  lastMessageAt: '2026-01-01T00:00:00.000Z',
  handover: null,
  movedTo: null,
  movedFrom: null,
};

describe('events', () => {
  it('stamps time-ordered UUIDv7 ids and ISO times that pass the event schema', () => {
    const first = sessionChanged(session, 'routed', 'system', 'new');
    const second = newEvent('session.changed', { ...first, actor: 'agent-7' }, () => Date.parse('2030-01-01T00:00:00Z'));
    expect(BusEventSchema.safeParse(first).success).toBe(true);
    expect(second.at).toBe('2030-01-01T00:00:00.000Z');
    expect(second.id > first.id).toBe(true);
    expect(first.payload).toEqual({
      status: 'offered',
      reason: 'routed',
      trigger: 'new',
      channel: 'WB',
      customerId: session.customerId,
      skillGroup: 'general',
      assignedAgentId: null,
      offeredAgentId: 'agent-7',
      offerExpiresAt: session.offerExpiresAt,
      tier: null,
      priority: null,
      createdAt: session.createdAt,
      waitingSince: session.waitingSince,
      lastMessageAt: session.lastMessageAt,
      handover: null,
      // When the session was stored as shown: what consumers order changes by (not the event's `at`).
      updatedAt: session.updatedAt,
    });
  });

  it('acts once per event id, retries a failed id, and forgets the oldest past its bound', async () => {
    const acted: string[] = [];
    let failNext = true;
    const handle = onceById<{ id: string }>((e) => {
      if (e.id === 'b' && failNext) {
        failNext = false;
        throw new Error('transient');
      }
      acted.push(e.id);
    }, 2);
    await handle({ id: 'a' });
    await handle({ id: 'a' });
    await expect(handle({ id: 'b' })).rejects.toThrow('transient');
    await handle({ id: 'b' });
    await handle({ id: 'c' }); // 'a' falls out of the window of 2
    await handle({ id: 'a' });
    expect(acted).toEqual(['a', 'b', 'c', 'a']);
  });
});
