import type { TestServer } from './harness';

/**
 * The value of one Prometheus sample from the server's `GET /metrics` (asked over `inject`, so from
 * loopback): the first line of `name` whose labels contain `label` (e.g. `limit="ip_messages"`), or 0
 * when there is none yet.
 */
export async function metricValue(s: Pick<TestServer, 'app'>, name: string, label: string): Promise<number> {
  const body = (await s.app.inject({ method: 'GET', url: '/metrics' })).body;
  const line = body.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(label));
  return line ? Number(line.split(' ').at(-1)) : 0;
}
