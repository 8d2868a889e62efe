import { HttpException } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';

export interface ErrorReply {
  status: number;
  body: object;
  /** logged with the request id by the exception filter */
  unexpected?: boolean;
}

/**
 * Replies to every error on one route in that route's own format (the gateway answers Smartico with
 * HTTP 200). Given to the exception filter, which is global: errors Fastify raises before a
 * controller is chosen (bad JSON, 413, 415, 404) reach no controller-scoped filter.
 */
export interface RouteErrorMapper {
  readonly path: string;
  reply(error: unknown, request: FastifyRequest): ErrorReply;
}

/** The HTTP status an error carries: Nest's exceptions, and errors marked by Fastify or a library (the throttler's). */
export function httpStatusOf(error: unknown): number | undefined {
  if (error instanceof HttpException) return error.getStatus();
  const status = (error as { statusCode?: unknown } | null)?.statusCode;
  return typeof status === 'number' && status >= 400 && status < 600 ? status : undefined;
}
