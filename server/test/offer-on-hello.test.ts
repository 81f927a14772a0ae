import type { Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OfferView } from '../../common/socket/agent-events';
import { ack, openAgentSocket } from './support/agent-client';
import { startTestServer, type TestServer } from './support/harness';
import { until } from './support/until';
import { openWidget } from './support/widget-client';

/**
 * Issue 15 ("an offer is never lost"): an offer made before a socket connected — a second tab or
 * device of the same agent, or the same tab after a reload while the first socket lives on — is pushed
 * to it after `hello` as `offer:new`, with its expiry, so that socket shows the countdown, plays the
 * tone and raises the OS notification instead of a bare row with no deadline.
 */
describe('pending offers after hello', () => {
  let s: TestServer;
  let agent1: Socket;
  let lead: Socket;
  const offers: OfferView[] = [];

  beforeAll(async () => {
    s = await startTestServer();
    agent1 = await openAgentSocket(s, await s.login('agent1'));
    agent1.on('offer:new', (o: OfferView) => void offers.push(o));
    // The lead is in `general` too: busy, so the contact is offered to agent1.
    lead = await openAgentSocket(s, await s.login('lead'));
    expect(await ack(lead, 'presence:set', { presence: 'busy' })).toMatchObject({ ok: true });
    // Both as the router sees them before the contact comes: agent1 available, the lead busy.
    const id = (username: string) => s.services.auth.listStaff().find((u) => u.username === username)!.id;
    await until(() => s.services.pool.get(id('agent1'))?.presence === 'available' && s.services.pool.get(id('lead'))?.presence === 'busy');
  });
  afterAll(async () => {
    for (const socket of [agent1, lead]) socket?.disconnect();
    await s.cleanup();
  });

  it("sends the agent's pending offer to a socket that connects after it was made", async () => {
    const widget = await openWidget(s);
    widget.send({ type: 'hello' });
    await widget.next('welcome');
    // No timestamp in the text: a 13-digit `Date.now()` passes the Luhn check about 1 time in 9, and the
    // preview masks it as a card number (DESIGN §8), so the offer was never found by its text — the
    // flake of stops 35–36. A base-36 stamp has no long digit run.
    const text = `Offer made before the second tab ${Date.now().toString(36)}`;
    widget.send({ type: 'message', clientMessageId: `offer-hello-${Date.now()}`, text });
    await until(() => offers.some((o) => o.summary.lastMessagePreview === text), 5000);
    const first = offers.find((o) => o.summary.lastMessagePreview === text)!;

    // A second tab of agent1 signs in while the offer is pending.
    const second = await openAgentSocket(s, await s.login('agent1'));
    const secondOffers: OfferView[] = [];
    second.on('offer:new', (o: OfferView) => void secondOffers.push(o));
    try {
      await until(() => secondOffers.some((o) => o.sessionId === first.sessionId), 5000);
      const again = secondOffers.find((o) => o.sessionId === first.sessionId)!;
      expect(again.expiresAt).toBe(first.expiresAt);
      expect(Date.parse(again.expiresAt)).toBeGreaterThan(Date.now());
      expect(again.summary).toMatchObject({ id: first.sessionId, status: 'offered' });
    } finally {
      second.disconnect();
      widget.ws.close();
    }
  });
});
