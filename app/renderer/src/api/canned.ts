import { createContext, useContext } from 'react';
import type { CannedReply } from '../../../../common/api/canned';
import { bearerCaller, type Fetch } from './http';

/** Canned replies (issue 15, common/api/canned.ts) with the staff bearer token. Errors are HuiliuError. */
export interface CannedApi {
  /** `GET /api/v1/canned-replies?q=&limit=`: the caller's personal replies and their groups', best match first. */
  search(token: string, q: string, limit?: number): Promise<CannedReply[]>;
}

export function createCannedApi(options: { base?: string; fetch?: Fetch } = {}): CannedApi {
  const call = bearerCaller(options);
  return {
    async search(token, q, limit = 8) {
      const params = new URLSearchParams({ limit: String(limit) });
      if (q) params.set('q', q);
      return (await call<{ items: CannedReply[] }>(token, 'GET', `/api/v1/canned-replies?${params}`)).items;
    },
  };
}

export const CannedApiContext = createContext<CannedApi>(createCannedApi());
export const useCannedApi = (): CannedApi => useContext(CannedApiContext);
