import { HttpException } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';

export interface ErrorReply {
  status: number;
  body: object;
  unexpected?: boolean;
}

/** One route's error format, applied by the global filter: Fastify's own errors (bad JSON, 413) reach no scoped filter. */
export interface RouteErrorMapper {
  readonly path: string;
  reply(error: unknown, request: FastifyRequest): ErrorReply;
}

/** Nest's exceptions, and errors marked by Fastify or a library (the throttler's). */
export function httpStatusOf(error: unknown): number | undefined {
  if (error instanceof HttpException) return error.getStatus();
  const status = (error as { statusCode?: unknown } | null)?.statusCode;
  return typeof status === 'number' && status >= 400 && status < 600 ? status : undefined;
}
