import { HuiliuError } from '../../../../common/errors/codes';
import { textOf, type Envelope } from '../../../../common/message/envelope';
import type { Logger } from '../../logging/logger';
import type { SessionStore } from '../../sessions/store';
import { carries, unsupportedKind, type ChannelAdapter, type DeliveryResult } from '../channel-adapter';
import type { WechatAccounts } from './account';
import { WechatApiError, type WechatApi } from './api';

/** Short words for the WeChat errcodes an agent meets (the rest keep WeChat's own errmsg). */
const ERRCODE_WORDS: Record<number, string> = {
  45015: 'the customer has not written for 48 hours (the reply window expired)',
  45047: 'too many messages since the customer last wrote',
  43004: 'the customer has unfollowed the account',
  40003: 'WeChat does not know this customer (invalid openid)',
  45002: 'the message is too long for WeChat',
  48001: 'the account may not send customer-service messages',
};

/** How many outbound message ids a node remembers as already sent (WeChat's send has no idempotency key). */
const SENT_MEMORY = 10_000;

/**
 * The WeChat official account channel's adapter (`WX`): replies go out as customer-service messages
 * (客服消息, `message/custom/send`), text only. WeChat lets an account write to a customer only
 * within 48 hours of the customer's last message (`passiveReply`); past that the API answers 45015
 * and the reply is recorded `failed` with code `WECHAT_45015`. The recipient (openid) and the
 * account come from the conversation's newest WeChat message (its `meta`).
 *
 * WeChat's send has no idempotency key: this node remembers the ids it sent, so a redelivered
 * `message.out` is not sent twice (another node after a crash could: at-least-once).
 */
export function createWechatChannelAdapter(deps: {
  store: Pick<SessionStore, 'recentMessages'>;
  accounts: WechatAccounts;
  api: WechatApi;
  logger: Logger;
}): ChannelAdapter {
  const log = deps.logger.child({ component: 'gateway.wechat' });
  const capabilities = { text: true, image: false, file: false, audio: false, typing: false, readReceipts: false, passiveReply: true };
  const sent = new Map<string, DeliveryResult>();

  /** The WeChat address of the session's customer: its newest inbound message's account and openid. */
  const recipient = async (envelope: Envelope): Promise<{ accountId: string; openid: string } | null> => {
    const page = await deps.store.recentMessages(envelope.conversationId, { limit: 200 });
    for (const m of [...page.messages].reverse()) {
      // This session's customer: in a conversation continued across channels or merged identities,
      // another WX session's openid is not where this reply goes.
      if (m.direction !== 'in' || m.channel !== 'WX' || m.sessionId !== envelope.sessionId) continue;
      const { accountId, openid } = m.meta;
      if (typeof accountId === 'string' && typeof openid === 'string') return { accountId, openid };
    }
    return null;
  };

  return {
    channel: 'WX',
    capabilities,
    async send(envelope) {
      if (!carries(capabilities, envelope.kind)) return unsupportedKind('WX', envelope.kind);
      const done = sent.get(envelope.id);
      if (done) return done;
      const to = await recipient(envelope);
      if (!to)
        return { state: 'failed', error: { code: 'WECHAT_NO_RECIPIENT', message: 'The conversation has no WeChat message to reply to.' } };
      let result: DeliveryResult;
      try {
        const account = await deps.accounts.get(to.accountId);
        await deps.api.sendText(account, to.openid, textOf(envelope));
        result = { state: 'sent' };
      } catch (error) {
        if (error instanceof HuiliuError) {
          result = { state: 'failed', error: { code: error.code, message: error.message } };
        } else if (error instanceof WechatApiError) {
          const words = typeof error.errcode === 'number' ? ERRCODE_WORDS[error.errcode] : undefined;
          result = {
            state: 'failed',
            error: {
              code: `WECHAT_${String(error.errcode).toUpperCase()}`,
              message: (words ? `${words} (${error.message})` : error.message).slice(0, 500),
            },
          };
        } else {
          throw error;
        }
        // The account id and WeChat's code only: never the openid, the token or the text.
        log.warn({ account: to.accountId, messageId: envelope.id, code: result.error!.code }, 'WeChat reply not sent');
      }
      if (result.state === 'sent') {
        sent.set(envelope.id, result);
        if (sent.size > SENT_MEMORY) sent.delete(sent.keys().next().value!);
      }
      return result;
    },
  };
}
