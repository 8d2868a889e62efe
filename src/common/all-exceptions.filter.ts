import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';

import { GATEWAY_PATH } from '../gateway/gateway.constants';
import { GatewayError, GatewayErrorCode, GatewayRefused } from '../gateway/gateway.errors';
import type { Metrics } from '../metrics/metrics.service';
import { RequestValidationError } from './request-validation.error';

/** An error marked with this status but not thrown by Nest or Fastify, e.g. the throttler's. */
function httpStatusOf(error: unknown): number | undefined {
  if (error instanceof HttpException) return error.getStatus();
  const status = (error as { statusCode?: unknown } | null)?.statusCode;
  return typeof status === 'number' && status >= 400 && status < 600 ? status : undefined;
}

/**
 * The one place errors become responses. On Smartico's gateway route every outcome is HTTP 200
 * with `{error_code, error_message}`; elsewhere it is an HTTP status with a JSON body. Unexpected
 * errors are logged with the request id and answered generically.
 */
@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  private readonly logger = new Logger(AllExceptionsFilter.name);

  constructor(private readonly metrics?: Metrics) {}

  catch(error: unknown, host: ArgumentsHost): void {
    if (host.getType() !== 'http') return;
    const request = host.switchToHttp().getRequest<FastifyRequest>();
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    if (reply.sent) return;
    const path = request.url.split('?', 1)[0];
    if (path === GATEWAY_PATH) {
      const refusal = this.toGatewayRefusal(error, request);
      this.metrics?.messagesRefused.inc({ code: String(refusal.error_code) });
      void reply.status(200).header('content-type', 'application/json; charset=utf-8').send(refusal);
      return;
    }
    const [status, body] = this.toHttpError(error, request);
    void reply.status(status).header('content-type', 'application/json; charset=utf-8').send(body);
  }

  private toGatewayRefusal(error: unknown, request: FastifyRequest): GatewayRefused {
    if (error instanceof GatewayError) return { error_code: error.code, error_message: error.message };
    if (error instanceof RequestValidationError) {
      const [problem] = error.problems;
      return {
        error_code: problem.tooLarge ? GatewayErrorCode.PayloadTooLarge : GatewayErrorCode.InvalidRequest,
        error_message: problem.message,
      };
    }
    const status = httpStatusOf(error);
    if (status === HttpStatus.TOO_MANY_REQUESTS) {
      return { error_code: GatewayErrorCode.RateLimited, error_message: 'too many requests; slow down' };
    }
    if (status === HttpStatus.NOT_FOUND || status === HttpStatus.METHOD_NOT_ALLOWED) {
      return { error_code: GatewayErrorCode.InvalidRequest, error_message: `use POST ${GATEWAY_PATH}` };
    }
    // Fastify's body-parsing errors reach us as HttpExceptions carrying their status
    if (status === HttpStatus.PAYLOAD_TOO_LARGE) {
      return { error_code: GatewayErrorCode.PayloadTooLarge, error_message: 'request body is over 256 KiB' };
    }
    if (status === HttpStatus.UNSUPPORTED_MEDIA_TYPE) {
      return { error_code: GatewayErrorCode.InvalidRequest, error_message: 'Content-Type must be application/json' };
    }
    if (status !== undefined && status < 500) {
      const empty = request.headers['content-length'] === '0' || request.headers['content-length'] === undefined;
      return { error_code: GatewayErrorCode.InvalidRequest, error_message: empty ? 'request body is empty' : 'request body is not valid JSON' };
    }
    this.logUnexpected(error, request);
    return { error_code: GatewayErrorCode.Unavailable, error_message: 'temporarily unavailable; nothing was stored, retry later' };
  }

  private toHttpError(error: unknown, request: FastifyRequest): [number, Record<string, unknown>] {
    if (error instanceof RequestValidationError) {
      return [400, { statusCode: 400, error: 'Bad Request', message: error.problems.map((problem) => problem.message) }];
    }
    if (error instanceof HttpException) {
      const response = error.getResponse();
      const body = typeof response === 'object' ? (response as Record<string, unknown>) : { statusCode: error.getStatus(), message: response };
      return [error.getStatus(), body];
    }
    const status = httpStatusOf(error);
    if (status !== undefined && status < 500) {
      return [status, { statusCode: status, message: 'Bad Request' }];
    }
    this.logUnexpected(error, request);
    return [500, { statusCode: 500, error: 'Internal Server Error', message: 'internal error', requestId: request.id }];
  }

  private logUnexpected(error: unknown, request: FastifyRequest): void {
    const name = error instanceof Error ? error.name : typeof error;
    const message = error instanceof Error ? error.message : String(error);
    this.logger.error({ reqId: request.id, err: { name, message, stack: error instanceof Error ? error.stack : undefined } }, 'unexpected error');
  }
}
