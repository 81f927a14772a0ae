import type { KpiQuery, KpiReport } from '../../../../common/api/kpis';
import { ErrorBodySchema, HuiliuError } from '../../../../common/errors/codes';
import { bearerCaller, type Fetch } from './http';

/** The KPI REST client (issue 16, policy `metrics.view`). Errors are HuiliuError with the server's code. */
export interface KpisApi {
  /** `GET /api/v1/metrics/kpis` with the query's filters and bucket. */
  report(token: string, query: KpiQuery): Promise<KpiReport>;
  /** `GET /api/v1/metrics/kpis.csv` with the same query: the file and the name the server gave it. */
  csv(token: string, query: KpiQuery): Promise<{ blob: Blob; filename: string }>;
}

/** The query string of a KPI query (empty fields left out). */
export function kpiParams(query: KpiQuery): URLSearchParams {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') params.set(k, String(v));
  return params;
}

export function createKpisApi(options: { base?: string; fetch?: Fetch } = {}): KpisApi {
  const call = bearerCaller(options);
  const base = options.base ?? '';
  const doFetch: Fetch = options.fetch ?? ((input, init) => fetch(input, init));
  return {
    report: (token, q) => call(token, 'GET', `/api/v1/metrics/kpis?${kpiParams(q)}`),
    async csv(token, q) {
      let res: Response;
      try {
        res = await doFetch(`${base}/api/v1/metrics/kpis.csv?${kpiParams(q)}`, {
          method: 'GET',
          headers: { authorization: `Bearer ${token}` },
        });
      } catch {
        throw new HuiliuError('INTERNAL', 'No answer from the server.', { network: true });
      }
      if (!res.ok) {
        const parsed = ErrorBodySchema.safeParse(await res.json().catch(() => null));
        throw parsed.success
          ? new HuiliuError(parsed.data.error.code, parsed.data.error.message)
          : new HuiliuError('INTERNAL', `HTTP ${res.status}`);
      }
      const disposition = res.headers.get('content-disposition') ?? '';
      const filename = /filename="([^"]+)"/.exec(disposition)?.[1] ?? 'huiliu-kpis.csv';
      return { blob: await res.blob(), filename };
    },
  };
}
