import { createContext, useContext } from 'react';
import type { PrivacyRequestKind, PrivacyRequestView } from '../../../../common/api/privacy';
import { ErrorBodySchema, HuiliuError } from '../../../../common/errors/codes';
import { bearerCaller, type Fetch } from './http';

/** The export bundle as downloaded: the JSON text as the server sent it, and the file name it gave. */
export interface DownloadedExport {
  json: string;
  filename: string;
}

/**
 * Data-subject requests over REST (issue 17, server/src/privacy/plugin.ts, docs/privacy.md), each with
 * the staff bearer token. Errors are HuiliuError with the server's code and message (FORBIDDEN,
 * NOT_FOUND, CUSTOMER_ERASED, PRIVACY_SELF_APPROVAL, PRIVACY_REQUEST_NOT_PENDING, EXPORT_GONE, …);
 * no answer at all is HuiliuError('INTERNAL') with `details: {network: true}`.
 */
export interface PrivacyApi {
  /** `POST /api/v1/privacy/exports|erasures` `{customerId, reason}` (policy `privacy.request`) → the pending request. */
  file(token: string, kind: PrivacyRequestKind, customerId: string, reason: string): Promise<PrivacyRequestView>;
  /** `GET /api/v1/privacy/exports|erasures` (policy `privacy.approve`), newest first. */
  list(token: string, kind: PrivacyRequestKind): Promise<PrivacyRequestView[]>;
  /** `POST …/:id/approve` → the request (export: approved; erasure: executed). */
  approve(token: string, kind: PrivacyRequestKind, id: string): Promise<PrivacyRequestView>;
  /** `POST …/:id/reject` `{note?}` → the request (rejected). */
  reject(token: string, kind: PrivacyRequestKind, id: string, note: string): Promise<PrivacyRequestView>;
  /** `GET /api/v1/privacy/exports/:id/download`: the bundle, once (then EXPORT_GONE). */
  download(token: string, id: string): Promise<DownloadedExport>;
}

const PATH: Record<PrivacyRequestKind, string> = { export: 'exports', erasure: 'erasures' };

/** The file name of a `content-disposition: attachment; filename="…"` header, else a default. */
export function filenameOf(disposition: string | null, id: string): string {
  const m = /filename="([^"]+)"/.exec(disposition ?? '');
  return m?.[1] ?? `huiliu-export-${id}.json`;
}

function jsonOrNull(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}

/** `options.fetch`: the fetch to use (tests pass a fake); `options.base`: the server's origin ('' = same). */
export function createPrivacyApi(options: { base?: string; fetch?: Fetch } = {}): PrivacyApi {
  const call = bearerCaller(options);
  const base = options.base ?? '';
  const doFetch: Fetch = options.fetch ?? ((input, init) => fetch(input, init));
  const id = encodeURIComponent;
  return {
    file: (token, kind, customerId, reason) => call(token, 'POST', `/api/v1/privacy/${PATH[kind]}`, { customerId, reason }),
    list: async (token, kind) => (await call<{ requests: PrivacyRequestView[] }>(token, 'GET', `/api/v1/privacy/${PATH[kind]}`)).requests,
    approve: (token, kind, rid) => call(token, 'POST', `/api/v1/privacy/${PATH[kind]}/${id(rid)}/approve`, {}),
    reject: (token, kind, rid, note) =>
      call(token, 'POST', `/api/v1/privacy/${PATH[kind]}/${id(rid)}/reject`, note.trim() ? { note: note.trim() } : {}),
    async download(token, rid) {
      let res: Response;
      try {
        res = await doFetch(`${base}/api/v1/privacy/exports/${id(rid)}/download`, { headers: { authorization: `Bearer ${token}` } });
      } catch {
        throw new HuiliuError('INTERNAL', 'No answer from the server.', { network: true });
      }
      const text = await res.text();
      if (!res.ok) {
        const parsed = ErrorBodySchema.safeParse(jsonOrNull(text));
        if (!parsed.success) throw new HuiliuError('INTERNAL', `HTTP ${res.status}`);
        throw new HuiliuError(parsed.data.error.code, parsed.data.error.message, parsed.data.error.details);
      }
      return { json: text, filename: filenameOf(res.headers.get('content-disposition'), rid) };
    },
  };
}

export const PrivacyApiContext = createContext<PrivacyApi>(createPrivacyApi());
export const usePrivacyApi = (): PrivacyApi => useContext(PrivacyApiContext);
