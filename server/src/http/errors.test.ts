import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { HuiliuError } from '../../../common/errors/codes';
import { clientErrorInfo, errorBody, registerErrorHandling } from './errors';

describe('client-facing error messages (DESIGN §6, §8)', () => {
  it('masks personal data a message echoes, and leaves our own ids alone', () => {
    expect(clientErrorInfo(new HuiliuError('VALIDATION_FAILED', 'No skill group 13812345678.'))).toEqual({
      code: 'VALIDATION_FAILED',
      message: 'No skill group *******5678.',
    });
    expect(errorBody('NOT_FOUND', 'no user chen.jing@example.com')).toEqual({
      error: { code: 'NOT_FOUND', message: 'no user ***@example.com' },
    });
    expect(clientErrorInfo(new HuiliuError('NOT_FOUND', 'No session AP179607479345933326.')).message).toBe(
      'No session AP179607479345933326.',
    );
  });

  it('masks it in the HTTP error handler', async () => {
    const app = Fastify();
    registerErrorHandling(app);
    app.get('/x', async () => {
      throw new HuiliuError('VALIDATION_FAILED', 'No skill group tel13812345678.');
    });
    const res = await app.inject({ method: 'GET', url: '/x' });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: { code: 'VALIDATION_FAILED', message: 'No skill group tel*******5678.' } });
    await app.close();
  });
});
