import { BadRequestException, HttpException, NotFoundException, PayloadTooLargeException } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';

import { RequestValidationError } from '../common/request-validation.error';
import { Metrics } from '../metrics/metrics.service';
import { GatewayError, GatewayErrorCode } from './gateway.errors';
import { GatewayDirectory } from './gateway-directory';
import { GatewayErrorMapper } from './gateway-error.mapper';

const request = (contentLength?: string, authorization?: string): FastifyRequest =>
  ({
    headers: { ...(contentLength === undefined ? {} : { 'content-length': contentLength }), ...(authorization === undefined ? {} : { authorization }) },
  }) as FastifyRequest;
const GATEWAYS = { gateways: [{ id: 'g1', authorization: 'secret-1', apiKey: 'k', brand: 'brand-1' }] };

describe('GatewayErrorMapper', () => {
  let metrics: Metrics;
  let sut: GatewayErrorMapper;

  beforeEach(() => {
    metrics = new Metrics();
    sut = new GatewayErrorMapper(metrics, new GatewayDirectory(GATEWAYS));
  });

  it.each<[string, unknown, number, string]>([
    ['a gateway error', new GatewayError(GatewayErrorCode.Conflict, 'im_uid x was already accepted'), 4, 'im_uid x was already accepted'],
    ['a malformed field', new RequestValidationError([{ field: 'body', message: 'body is required', tooLarge: false }]), 2, 'body is required'],
    ['a field over its limit', new RequestValidationError([{ field: 'im_uid', message: 'im_uid is long', tooLarge: true }]), 3, 'im_uid is long'],
    ["the throttler's 429", Object.assign(new Error('ThrottlerException'), { statusCode: 429 }), 6, 'too many requests; slow down'],
    ['a 404 on the path', new NotFoundException(), 2, 'use POST /gateway/custom-im'],
    ['a 405', new HttpException('no', 405), 2, 'use POST /gateway/custom-im'],
    ['a body over the request limit', new PayloadTooLargeException(), 3, 'request body is over 256 KiB'],
    ['another media type', new HttpException('no', 415), 2, 'Content-Type must be application/json'],
    ['unparsable JSON', new BadRequestException(), 2, 'request body is not valid JSON'],
  ])('answers %s with HTTP 200 and its error_code, counted by code', async (_name, error, code, message) => {
    expect(sut.reply(error, request('12'))).toEqual({ status: 200, body: { error_code: code, error_message: message }, unexpected: false });
    expect((await metrics.messagesRefused.get()).values).toEqual([{ labels: { code: String(code), brand: '' }, value: 1 }]);
  });

  it('counts a refusal under the brand of the gateway its Authorization names, even before the guard ran', async () => {
    sut.reply(new BadRequestException(), request('12', 'secret-1'));
    sut.reply(new BadRequestException(), request('12', 'not-a-secret'));
    expect((await metrics.messagesRefused.get()).values).toEqual([
      { labels: { code: '2', brand: 'brand-1' }, value: 1 },
      { labels: { code: '2', brand: '' }, value: 1 },
    ]);
  });

  it('says an empty body is empty', () => {
    expect(sut.reply(new BadRequestException(), request('0')).body).toEqual({ error_code: 2, error_message: 'request body is empty' });
  });

  it('answers an unexpected error as temporarily unavailable, marked for logging, and counts it as code 5', async () => {
    expect(sut.reply(new TypeError('boom'), request())).toEqual({
      status: 200,
      body: { error_code: 5, error_message: 'temporarily unavailable; retry later (a retry with the same im_uid is never stored twice)' },
      unexpected: true,
    });
    expect((await metrics.messagesRefused.get()).values).toEqual([{ labels: { code: '5', brand: '' }, value: 1 }]);
  });
});
