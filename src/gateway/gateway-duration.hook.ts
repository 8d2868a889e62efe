import { Injectable, OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance } from 'fastify';

import { Metrics } from '../metrics/metrics.service';
import { GATEWAY_PATH } from './gateway.constants';

/** Times every answer on the gateway route, from Fastify: requests refused before the controller (bad JSON, 413) count too. */
@Injectable()
export class GatewayDurationHook implements OnModuleInit {
  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly metrics: Metrics,
  ) {}

  onModuleInit(): void {
    const fastify = this.adapterHost.httpAdapter?.getInstance<FastifyInstance>();
    fastify?.addHook('onResponse', (request, reply, done) => {
      if (request.url.split('?', 1)[0] === GATEWAY_PATH) this.metrics.gatewayDuration.observe(reply.elapsedTime / 1000);
      done();
    });
  }
}
