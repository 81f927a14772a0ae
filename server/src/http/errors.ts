import type { FastifyError, FastifyInstance, FastifyReply } from 'fastify';
import type { z } from 'zod';
import { ERROR_CODES, HuiliuError, zodDetails, type ErrorBody, type ErrorCode, type ErrorInfo } from '../../../common/errors/codes';
import { maskPii } from '../../../common/privacy/mask';

/**
 * An error as the server hands it to a client (HTTP bodies, agent socket acks): `toInfo()` with its
 * message through `maskPii` (DESIGN §8), so a message that echoes client input
 * (`No skill group 13812345678.`) never hands a phone, ID, card or e-mail back verbatim.
 */
export function clientErrorInfo(err: HuiliuError): ErrorInfo {
  const info = err.toInfo();
  return { ...info, message: maskPii(info.message) };
}

export function errorBody(code: ErrorCode, message?: string, details?: unknown): ErrorBody {
  return { error: clientErrorInfo(new HuiliuError(code, message, details)) };
}

/**
 * RATE_LIMITED (HTTP 429) saying when a retry can succeed: `details.retryAfterSeconds` (whole seconds,
 * at least 1), which the error handler sends as `Retry-After` (RFC 9110 §10.2.3); `extra` adds
 * details such as the limit's name.
 */
export function rateLimited(retryAfterSeconds: number, message?: string, extra: Record<string, unknown> = {}): HuiliuError {
  return new HuiliuError('RATE_LIMITED', message, { ...extra, retryAfterSeconds: Math.max(1, Math.ceil(retryAfterSeconds)) });
}

/** The `Retry-After` seconds a RATE_LIMITED error carries, if any. */
export function retryAfterSeconds(error: unknown): number | undefined {
  if (!(error instanceof HuiliuError) || error.code !== 'RATE_LIMITED') return undefined;
  const details = error.details as { retryAfterSeconds?: unknown } | undefined;
  return typeof details?.retryAfterSeconds === 'number' ? details.retryAfterSeconds : undefined;
}

/** Parses a request part with a zod schema, or throws VALIDATION_FAILED naming the fields. */
export function parseWith<S extends z.ZodType>(schema: S, value: unknown): z.infer<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new HuiliuError('VALIDATION_FAILED', undefined, zodDetails(parsed.error));
  return parsed.data;
}

const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_BODY_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'INVALID_JSON',
  FST_ERR_CTP_INVALID_JSON_BODY: 'INVALID_JSON',
  FST_ERR_VALIDATION: 'VALIDATION_FAILED',
};

/**
 * Fastify's `frameworkErrors` option: errors raised by its router before any handler (a malformed
 * URL, an over-long path parameter) leave in the registry shape too, instead of Fastify's own.
 */
export function frameworkErrors(error: FastifyError, _request: unknown, reply: FastifyReply): void {
  const code: ErrorCode = error.code === 'FST_ERR_MAX_PARAM_LENGTH' || error.code === 'FST_ERR_BAD_URL' ? 'VALIDATION_FAILED' : 'NOT_FOUND';
  void reply
    .status(ERROR_CODES[code].status)
    .send(errorBody(code, code === 'VALIDATION_FAILED' ? 'The URL is malformed or too long.' : undefined));
}

/**
 * The registry code an error leaves with (the same mapping as the error handler): a HuiliuError's own,
 * Fastify's body and validation errors mapped, any other 4xx VALIDATION_FAILED, the rest INTERNAL.
 */
export function errorCodeOf(err: unknown): ErrorCode {
  if (err instanceof HuiliuError) return err.code;
  const e = err as Partial<FastifyError>;
  const mapped = (e.code && FASTIFY_CODES[e.code]) || (err instanceof SyntaxError ? 'INVALID_JSON' : undefined);
  if (mapped) return mapped;
  if (e.statusCode === 429) return 'RATE_LIMITED';
  if (e.statusCode && e.statusCode >= 400 && e.statusCode < 500) return 'VALIDATION_FAILED';
  return 'INTERNAL';
}

/**
 * Counts and logs (code only, never the body) what a channel's routes refused, in
 * `huiliu_channel_rejected_total{channel,code}` — as the WeChat and XMPP adapters do for theirs. Add
 * to the channel plugin's own scope; server errors (5xx) are the error handler's to log.
 */
export function countChannelRejections(
  scope: FastifyInstance,
  channel: string,
  metrics: { channelRejected: { inc(labels: { channel: string; code: string }): void } } | undefined,
): void {
  scope.addHook('onError', async (request, _reply, error) => {
    const code = errorCodeOf(error);
    if (ERROR_CODES[code].status >= 500) return;
    metrics?.channelRejected.inc({ channel, code });
    request.log.info({ channel, code, route: request.routeOptions.url }, 'channel request refused');
  });
}

/** 503s that are load shedding or start/stop, logged as warnings. */
const BUSY: ReadonlySet<string> = new Set(['OVERLOADED', 'NOT_READY', 'SHUTTING_DOWN']);

/**
 * How an error thrown by a handler is answered — the error handler's mapping as a value, so a path that
 * answers without Fastify (the voice edge's loopback hop, `voice/edge-api.ts`) answers exactly the same:
 * `status`, the `{error}` body, `retryAfter` (whole seconds, for `Retry-After`) and what to log, if anything
 * (`log.level` `warn` with the code, or `error` with the error; `log.message` as the handler logs it).
 */
export interface ErrorAnswer {
  status: number;
  body: ErrorBody;
  retryAfter?: number;
  log?: { level: 'warn' | 'error'; message: string };
}

export function errorAnswer(err: unknown): ErrorAnswer {
  if (err instanceof HuiliuError) {
    // A server too busy or not ready is the system working as designed: a warning, not a stack trace.
    const log = BUSY.has(err.code)
      ? { level: 'warn' as const, message: 'request refused: busy' }
      : err.status >= 500
        ? { level: 'error' as const, message: 'request failed' }
        : undefined;
    // RFC 9110 §10.2.3: every 429 says when to come back, in whole seconds, when the limit knows.
    const retryAfter = retryAfterSeconds(err);
    return {
      status: err.status,
      body: { error: clientErrorInfo(err) },
      ...(retryAfter !== undefined ? { retryAfter } : {}),
      ...(log ? { log } : {}),
    };
  }
  // Everything else takes the one mapping `errorCodeOf` gives (Fastify's own codes, bad JSON, 429, 4xx).
  const e = err as Partial<FastifyError>;
  const code = errorCodeOf(err);
  const framework = (e.code && FASTIFY_CODES[e.code]) || err instanceof SyntaxError;
  if (code === 'VALIDATION_FAILED' && !framework && e.statusCode) {
    return { status: e.statusCode, body: errorBody('VALIDATION_FAILED', e.message) };
  }
  if (code !== 'INTERNAL') return { status: ERROR_CODES[code].status, body: errorBody(code) };
  return { status: 500, body: errorBody('INTERNAL'), log: { level: 'error', message: 'unhandled error' } };
}

/** Every error leaves in the one `{error:{code,message,details?}}` shape (DESIGN §6). */
export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError, request, reply) => {
    const answer = errorAnswer(err);
    if (answer.log?.level === 'warn') request.log.warn({ code: (err as unknown as HuiliuError).code }, answer.log.message);
    else if (answer.log) request.log.error({ err }, answer.log.message);
    if (answer.retryAfter !== undefined) void reply.header('Retry-After', String(answer.retryAfter));
    return reply.status(answer.status).send(answer.body);
  });
  app.setNotFoundHandler((_request, reply) => reply.status(404).send(errorBody('NOT_FOUND')));
}
