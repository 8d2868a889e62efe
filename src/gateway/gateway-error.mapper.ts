import { HttpStatus, Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';

import { RequestValidationError } from '../common/request-validation.error';
import { ErrorReply, httpStatusOf, RouteErrorMapper } from '../common/route-error.mapper';
import { Metrics } from '../metrics/metrics.service';
import { GATEWAY_PATH, MAX_REQUEST_BYTES } from './gateway.constants';
import { GatewayError, GatewayErrorCode, GatewayRefused } from './gateway.errors';
import type { GatewayRequest } from './gateway-auth.guard';
import { GatewayDirectory } from './gateway-directory';

/** Every outcome on Smartico's route is HTTP 200 with `{error_code, error_message}` (SPEC §2), Fastify's own errors included. */
@Injectable()
export class GatewayErrorMapper implements RouteErrorMapper {
  readonly path = GATEWAY_PATH;

  constructor(
    private readonly metrics: Metrics,
    private readonly gateways: GatewayDirectory,
  ) {}

  reply(error: unknown, request: FastifyRequest): ErrorReply {
    const known = toRefusal(error, request);
    const refusal = known ?? UNAVAILABLE;
    // a refusal before the guard (unparsable JSON) still counts under the brand its Authorization names
    const gateway = (request as GatewayRequest).gateway ?? this.gateways.match(request.headers.authorization);
    this.metrics.messagesRefused.inc({ code: String(refusal.error_code), brand: gateway?.brand ?? '' });
    return { status: 200, body: refusal, unexpected: known === undefined };
  }
}

const UNAVAILABLE: GatewayRefused = {
  error_code: GatewayErrorCode.Unavailable,
  error_message: 'temporarily unavailable; retry later (a retry with the same im_uid is never stored twice)',
};

/** The refusal for an expected error; undefined for an unexpected one. */
function toRefusal(error: unknown, request: FastifyRequest): GatewayRefused | undefined {
  if (error instanceof GatewayError) return { error_code: error.code, error_message: error.message };
  if (error instanceof RequestValidationError) {
    const [problem] = error.problems;
    return { error_code: problem.tooLarge ? GatewayErrorCode.PayloadTooLarge : GatewayErrorCode.InvalidRequest, error_message: problem.message };
  }
  const status = httpStatusOf(error);
  if (status === HttpStatus.TOO_MANY_REQUESTS) return { error_code: GatewayErrorCode.RateLimited, error_message: 'too many requests; slow down' };
  if (status === HttpStatus.NOT_FOUND || status === HttpStatus.METHOD_NOT_ALLOWED) {
    return { error_code: GatewayErrorCode.InvalidRequest, error_message: `use POST ${GATEWAY_PATH}` };
  }
  if (status === HttpStatus.PAYLOAD_TOO_LARGE)
    return { error_code: GatewayErrorCode.PayloadTooLarge, error_message: `request body is over ${MAX_REQUEST_BYTES / 1024} KiB` };
  if (status === HttpStatus.UNSUPPORTED_MEDIA_TYPE)
    return { error_code: GatewayErrorCode.InvalidRequest, error_message: 'Content-Type must be application/json' };
  if (status !== undefined && status < 500) {
    const empty = request.headers['content-length'] === '0' || request.headers['content-length'] === undefined;
    return { error_code: GatewayErrorCode.InvalidRequest, error_message: empty ? 'request body is empty' : 'request body is not valid JSON' };
  }
  return undefined;
}
