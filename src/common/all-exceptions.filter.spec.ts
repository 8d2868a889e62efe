import { ArgumentsHost, Logger, NotFoundException } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';

import { AllExceptionsFilter } from './all-exceptions.filter';
import { RequestValidationError } from './request-validation.error';
import { RouteErrorMapper } from './route-error.mapper';

interface Sent {
  status?: number;
  contentType?: string;
  body?: unknown;
}

function httpHost(url: string, sent: Sent): ArgumentsHost {
  const reply = {
    sent: false,
    status: (status: number) => ((sent.status = status), reply),
    header: (_name: string, value: string) => ((sent.contentType = value), reply),
    send: (body: unknown) => ((sent.body = body), reply),
  };
  const request = { url, id: 'req-1', headers: {} };
  return { getType: () => 'http', switchToHttp: () => ({ getRequest: () => request, getResponse: () => reply }) } as unknown as ArgumentsHost;
}

describe('AllExceptionsFilter', () => {
  const mapper: RouteErrorMapper = {
    path: '/partner',
    reply: (error: unknown, request: FastifyRequest) => ({ status: 200, body: { error: String(error), id: request.id } }),
  };
  const sut = new AllExceptionsFilter([mapper]);

  it("replies on a mapped route in the mapper's format, whatever the query string", () => {
    const sent: Sent = {};
    sut.catch('refused', httpHost('/partner?x=1', sent));
    expect(sent).toEqual({ status: 200, contentType: 'application/json; charset=utf-8', body: { error: 'refused', id: 'req-1' } });
  });

  it('replies elsewhere with the HTTP status and a JSON body', () => {
    const sent: Sent = {};
    sut.catch(new NotFoundException('no such message'), httpHost('/partner/other', sent));
    expect(sent).toEqual({
      status: 404,
      contentType: 'application/json; charset=utf-8',
      body: { statusCode: 404, error: 'Not Found', message: 'no such message' },
    });
  });

  it('lists every validation problem in a 400, and answers an unexpected error with a generic 500 naming the request', () => {
    const invalid: Sent = {};
    sut.catch(new RequestValidationError([{ field: 'a', message: 'a is required', tooLarge: false }]), httpHost('/x', invalid));
    expect(invalid.body).toEqual({ statusCode: 400, error: 'Bad Request', message: ['a is required'] });
    const unexpected: Sent = {};
    const logged = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    sut.catch(new Error('secret detail'), httpHost('/x', unexpected));
    expect(unexpected).toMatchObject({ status: 500, body: { statusCode: 500, message: 'internal error', requestId: 'req-1' } });
    expect(logged).toHaveBeenCalledWith(expect.objectContaining({ reqId: 'req-1' }), 'unexpected error');
    logged.mockRestore();
  });
});
