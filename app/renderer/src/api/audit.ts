import type { AuditPageView, AuditSearchQuery } from '../../../../common/api/audit';
import { bearerCaller, type Fetch } from './http';

/** The audit search REST client (issue 17, auditors: policy `audit.view`). Errors are HuiliuError with the server's code. */
export interface AuditApi {
  /** One page of `GET /api/v1/audit`, newest first; `next` continues it. */
  search(token: string, query: AuditSearchQuery): Promise<AuditPageView>;
}

export function createAuditApi(options: { base?: string; fetch?: Fetch } = {}): AuditApi {
  const call = bearerCaller(options);
  return {
    search: (token, q) => {
      const params = new URLSearchParams({ from: q.from, to: q.to, limit: String(q.limit ?? 50) });
      if (q.userId) params.set('userId', q.userId);
      if (q.cursor) params.set('cursor', q.cursor);
      return call(token, 'GET', `/api/v1/audit?${params}`);
    },
  };
}
