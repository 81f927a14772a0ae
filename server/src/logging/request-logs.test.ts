import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { createLogger } from './logger';
import { RequestLogController } from './request-logs';

async function requestLines(level: string): Promise<string[]> {
  const lines: string[] = [];
  const app = Fastify({
    loggerInstance: createLogger({ level, destination: { write: (l: string) => void lines.push(l) } }),
    logController: new RequestLogController(),
  });
  app.get('/api/v1/channels/app/messages', async () => ({ ok: true }));
  await app.inject({ method: 'GET', url: '/api/v1/channels/app/messages?externalId=%2B8613800138000' });
  await app.close();
  return lines;
}

describe('per-request log lines (issue 8)', () => {
  it('writes none at info, the default level', async () => {
    const lines = await requestLines('info');
    expect(lines.filter((l) => l.includes('"reqId"'))).toEqual([]);
  });

  it('writes both at debug, without the query string', async () => {
    const lines = (await requestLines('debug')).map((l) => JSON.parse(l) as { level: number; msg: string; req?: { url: string } });
    expect(lines.map((l) => [l.level, l.msg])).toEqual([
      [20, 'incoming request'],
      [20, 'request completed'],
    ]);
    expect(lines[0]!.req!.url).toBe('/api/v1/channels/app/messages?[query]');
  });
});
