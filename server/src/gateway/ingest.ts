import type { InboundDraft } from '../../../common/message/envelope';
import type { Bus } from '../bus/bus';
import type { InboundResult, SessionStore } from '../sessions/store';

/**
 * The one path every channel's inbound message takes after `normalize` (DESIGN §1): store it
 * durably (seq assigned, encrypted), then publish it. A duplicate is answered from the store and not
 * published again, so nothing shows twice.
 */
export class Ingest {
  constructor(
    private readonly store: SessionStore,
    private readonly bus: Bus,
  ) {}

  async accept(draft: InboundDraft, skillGroup: string): Promise<InboundResult> {
    const result = await this.store.appendInbound(draft, { skillGroup });
    if (!result.duplicate) {
      await this.bus.publish('message.in', { envelope: result.envelope, newSession: result.newSession });
    }
    return result;
  }
}
