import { createContext, useContext } from 'react';
import type {
  CustomerIdentitiesView,
  CustomerLookupView,
  CustomerMergeView,
  LinkRequest,
  TimelineView,
} from '../../../../common/api/customers';
import { bearerCaller, type Fetch } from './http';
import type { IdentityLinkKind } from '../../../../common/message/envelope';
import type { ChannelCode } from '../../../../common/message/session-id';

/** What the agent looks another customer up by: a verified link, or a channel identity. */
export type CustomerLookup = { kind: IdentityLinkKind; value: string } | { channel: ChannelCode; externalId: string };

/** A verified link as stored (value masked). */
export interface LinkView {
  customerId: string;
  kind: IdentityLinkKind;
  value: string;
  source: string;
  createdAt: string;
}

/**
 * The continuity REST calls (issue 12, server/src/customers/continuity.plugin.ts), each with the staff
 * bearer token. Errors are HuiliuError with the server's code and details (LINK_CONFLICT:
 * `details.customerId` when the holder is in the caller's scope); a network failure is
 * HuiliuError('INTERNAL') with `details: {network: true}`.
 */
export interface CustomersApi {
  /** `GET /api/v1/customers/:id/identities`. */
  identities(token: string, customerId: string): Promise<CustomerIdentitiesView>;
  /** `GET /api/v1/customers/:id/timeline?before=&limit=`: newest first. */
  timeline(token: string, customerId: string, before?: string): Promise<TimelineView>;
  /** `GET /api/v1/customers/lookup`: NOT_FOUND when nobody in the caller's groups has it. */
  lookup(token: string, query: CustomerLookup): Promise<CustomerLookupView>;
  /** `POST /api/v1/customers/merges`. */
  merge(token: string, survivorId: string, mergedId: string): Promise<CustomerMergeView>;
  /** `POST /api/v1/customers/merges/:id/undo`. */
  undo(token: string, mergeId: string): Promise<CustomerMergeView>;
  /** `POST /api/v1/customers/:id/links`. */
  link(token: string, customerId: string, link: LinkRequest): Promise<LinkView>;
}

/** `options.fetch`: the fetch to use (tests pass a fake); `options.base`: the server's origin ('' = same). */
export function createCustomersApi(options: { base?: string; fetch?: Fetch } = {}): CustomersApi {
  const call = bearerCaller(options);
  const id = encodeURIComponent;

  return {
    identities: (token, customerId) => call(token, 'GET', `/api/v1/customers/${id(customerId)}/identities`),
    timeline: (token, customerId, before) =>
      call(token, 'GET', `/api/v1/customers/${id(customerId)}/timeline${before ? `?before=${id(before)}` : ''}`),
    lookup: (token, query) => {
      const params: Record<string, string> =
        'kind' in query ? { kind: query.kind, value: query.value } : { channel: query.channel, externalId: query.externalId };
      return call(token, 'GET', `/api/v1/customers/lookup?${new URLSearchParams(params).toString()}`);
    },
    merge: (token, survivorId, mergedId) => call(token, 'POST', '/api/v1/customers/merges', { survivorId, mergedId }),
    undo: (token, mergeId) => call(token, 'POST', `/api/v1/customers/merges/${id(mergeId)}/undo`, {}),
    link: (token, customerId, link) => call(token, 'POST', `/api/v1/customers/${id(customerId)}/links`, link),
  };
}

/** The customers REST client; the default talks to the serving origin, tests give one with a fake fetch. */
export const CustomersApiContext = createContext<CustomersApi>(createCustomersApi());
export const useCustomersApi = (): CustomersApi => useContext(CustomersApiContext);
