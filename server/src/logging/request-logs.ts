import { LogController, type FastifyReply, type FastifyRequest } from 'fastify';

/**
 * Fastify's per-request lines ("incoming request", "request completed") at `debug`, not `info`
 * (issue 8): at info they were two lines per request, each serialized and PII-masked, about 11 % of
 * the server's CPU under channel load. Debug rather than sampled: a sampled access log cannot answer
 * "what happened to this request", and one setting (`HUILIU_LOG_LEVEL=debug`) brings every line
 * back, masked as before, when someone needs them. What goes wrong stays
 * at its own level: a request that errored is logged at `error` here, a 5xx by the error handler
 * (http/errors.ts), and Fastify's other lines (route not found, stream errors) are unchanged.
 * Pass an instance as Fastify's `logController` option.
 */
export class RequestLogController extends LogController {
  override incomingRequest(request: FastifyRequest): void {
    request.log.debug({ req: request }, 'incoming request');
  }

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    if (error) reply.log.error({ res: reply, err: error, responseTime: reply.elapsedTime }, 'request errored');
    else reply.log.debug({ res: reply, responseTime: reply.elapsedTime }, 'request completed');
  }
}
