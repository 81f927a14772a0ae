import { createContext, useContext } from 'react';
import type { CustomerReveal, CustomerRevealField, MessageReveal } from '../../../../common/api/reveal';
import { bearerCaller, type Fetch } from './http';

/**
 * Revealing masked personal data (issue 17, server/src/sessions/reveal.plugin.ts), each with the staff
 * bearer token. Errors are HuiliuError with the server's code (FORBIDDEN for a role without
 * `pii.reveal`, SESSION_NOT_FOUND / NOT_FOUND out of scope).
 */
export interface RevealApi {
  /** `POST /api/v1/sessions/:id/messages/:messageId/reveal`: the message's words unmasked. */
  message(token: string, sessionId: string, messageId: string): Promise<MessageReveal>;
  /** `POST /api/v1/customers/:id/reveal` `{field}`. */
  customer(token: string, customerId: string, field: CustomerRevealField): Promise<CustomerReveal>;
}

/** `options.fetch`: the fetch to use (tests pass a fake); `options.base`: the server's origin ('' = same). */
export function createRevealApi(options: { base?: string; fetch?: Fetch } = {}): RevealApi {
  const call = bearerCaller(options);
  const id = encodeURIComponent;
  return {
    message: (token, sessionId, messageId) => call(token, 'POST', `/api/v1/sessions/${id(sessionId)}/messages/${id(messageId)}/reveal`, {}),
    customer: (token, customerId, field) => call(token, 'POST', `/api/v1/customers/${id(customerId)}/reveal`, { field }),
  };
}

export const RevealApiContext = createContext<RevealApi>(createRevealApi());
export const useRevealApi = (): RevealApi => useContext(RevealApiContext);
