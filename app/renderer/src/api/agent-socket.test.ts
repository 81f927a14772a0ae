import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { HuiliuError, fail, ok, type Result } from '../../../../common/errors/codes';
import { RATE_LIMITED_RESENDS, rateLimitWaitMs, sendEvent, type AckingSocket } from './agent-socket';

/** A socket whose acks are scripted: each emit takes the next answer (a Result, or an Error for a time-out). */
function scripted(answers: (Result<unknown> | Error)[]) {
  const sent: { event: string; payload: unknown; at: number }[] = [];
  const socket: AckingSocket = {
    timeout: () => ({
      emitWithAck: async (event: string, payload: unknown) => {
        sent.push({ event, payload, at: Date.now() });
        const next = answers.shift();
        if (next === undefined) throw new Error('no scripted answer left');
        if (next instanceof Error) throw next;
        return next;
      },
    }),
  };
  return { socket, sent };
}

describe('sendEvent (the agent socket request)', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('sends an event refused with RATE_LIMITED again after the retryAfterMs the server named, even with retries 0', async () => {
    const { socket, sent } = scripted([fail('RATE_LIMITED', undefined, { retryAfterMs: 300 }), ok({ id: 'WB1' })]);
    const answer = sendEvent(socket, 'session:open', { sessionId: 'WB1' }, { retries: 0 });
    await vi.advanceTimersByTimeAsync(299);
    expect(sent).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(60);
    await expect(answer).resolves.toEqual({ id: 'WB1' });
    expect(sent).toHaveLength(2);
    expect(sent[1]!.payload).toEqual({ sessionId: 'WB1' });
    expect(sent[1]!.at - sent[0]!.at).toBeGreaterThanOrEqual(300);
  });

  it(`gives up after ${RATE_LIMITED_RESENDS} re-sends and rejects with RATE_LIMITED and its details`, async () => {
    const refusals = Array.from({ length: RATE_LIMITED_RESENDS + 1 }, () => fail('RATE_LIMITED', undefined, { retryAfterMs: 100 }));
    const { socket, sent } = scripted(refusals);
    const answer = sendEvent(socket, 'session:view', { sessionId: 'WB1' }).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(10_000);
    const error = await answer;
    expect(error).toBeInstanceOf(HuiliuError);
    expect((error as HuiliuError).code).toBe('RATE_LIMITED');
    expect((error as HuiliuError).details).toEqual({ retryAfterMs: 100 });
    expect(sent).toHaveLength(RATE_LIMITED_RESENDS + 1);
  });

  it('does not send a volatile signal again (rateLimitedResends 0)', async () => {
    const { socket, sent } = scripted([fail('RATE_LIMITED', undefined, { retryAfterMs: 100 }), ok(true)]);
    await expect(
      sendEvent(socket, 'agent:typing', { sessionId: 'WB1', typing: true }, { retries: 0, rateLimitedResends: 0 }),
    ).rejects.toMatchObject({
      code: 'RATE_LIMITED',
    });
    expect(sent).toHaveLength(1);
  });

  it('does not send again on any other refusal', async () => {
    const { socket, sent } = scripted([fail('FORBIDDEN'), ok(1)]);
    await expect(sendEvent(socket, 'session:open', { sessionId: 'WB1' })).rejects.toMatchObject({ code: 'FORBIDDEN' });
    expect(sent).toHaveLength(1);
  });

  it('retries an unanswered event only as often as `retries` says', async () => {
    const none = scripted([new Error('operation has timed out'), ok(1)]);
    const noRetry = sendEvent(none.socket, 'offer:accept', { sessionId: 'WB1' }, { retries: 0 }).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(String(await noRetry)).toContain('timed out');
    expect(none.sent).toHaveLength(1);
    const once = scripted([new Error('operation has timed out'), ok('stored')]);
    const retried = sendEvent(once.socket, 'message:send', { clientMessageId: 'c1' }, { retries: 1 });
    await vi.advanceTimersByTimeAsync(5_000);
    await expect(retried).resolves.toBe('stored');
    expect(once.sent.map((s) => s.payload)).toEqual([{ clientMessageId: 'c1' }, { clientMessageId: 'c1' }]);
  });

  it('waits between 50 ms and 5 s (plus < 50 ms jitter), 1 s when the server named no wait', () => {
    expect(rateLimitWaitMs({ retryAfterMs: 0 })).toBeGreaterThanOrEqual(50);
    expect(rateLimitWaitMs({ retryAfterMs: 60_000 })).toBeLessThan(5050);
    const unnamed = rateLimitWaitMs(undefined);
    expect(unnamed).toBeGreaterThanOrEqual(1000);
    expect(unnamed).toBeLessThan(1050);
    expect(rateLimitWaitMs({ retryAfterMs: 'soon' })).toBeGreaterThanOrEqual(1000);
  });
});
