import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';

import { RequestValidationError } from './request-validation.error';
import { ErrorReply, httpStatusOf, RouteErrorMapper } from './route-error.mapper';

/** The one place errors become responses: a route's own mapper, else HTTP status + JSON; unexpected ones are logged. */
@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  private readonly logger = new Logger(AllExceptionsFilter.name);
  private readonly mappers: ReadonlyMap<string, RouteErrorMapper>;

  constructor(mappers: readonly RouteErrorMapper[] = []) {
    this.mappers = new Map(mappers.map((mapper) => [mapper.path, mapper]));
  }

  catch(error: unknown, host: ArgumentsHost): void {
    if (host.getType() !== 'http') return;
    const request = host.switchToHttp().getRequest<FastifyRequest>();
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    if (reply.sent) return;
    const mapper = this.mappers.get(request.url.split('?', 1)[0]);
    const { status, body, unexpected } = mapper?.reply(error, request) ?? toHttpError(error, request);
    if (unexpected === true) this.logUnexpected(error, request);
    void reply.status(status).header('content-type', 'application/json; charset=utf-8').send(body);
  }

  private logUnexpected(error: unknown, request: FastifyRequest): void {
    const name = error instanceof Error ? error.name : typeof error;
    const message = error instanceof Error ? error.message : String(error);
    this.logger.error({ reqId: request.id, err: { name, message, stack: error instanceof Error ? error.stack : undefined } }, 'unexpected error');
  }
}

function toHttpError(error: unknown, request: FastifyRequest): ErrorReply {
  if (error instanceof RequestValidationError) {
    return { status: 400, body: { statusCode: 400, error: 'Bad Request', message: error.problems.map((problem) => problem.message) } };
  }
  if (error instanceof HttpException) {
    const response = error.getResponse();
    return { status: error.getStatus(), body: typeof response === 'object' ? response : { statusCode: error.getStatus(), message: response } };
  }
  const status = httpStatusOf(error);
  if (status !== undefined && status < 500) return { status, body: { statusCode: status, message: 'Bad Request' } };
  return { status: 500, body: { statusCode: 500, error: 'Internal Server Error', message: 'internal error', requestId: request.id }, unexpected: true };
}
