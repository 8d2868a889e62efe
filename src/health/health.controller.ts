import { Controller, Get, OnModuleInit } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckResult, HealthCheckService, HealthIndicatorResult, HealthIndicatorService, TypeOrmHealthIndicator } from '@nestjs/terminus';

import { FanOutLink } from '../inbox/fan-out-link';
import { Metrics } from '../metrics/metrics.service';

@ApiTags('operations')
@Controller('health')
export class HealthController implements OnModuleInit {
  constructor(
    private readonly health: HealthCheckService,
    private readonly database: TypeOrmHealthIndicator,
    private readonly indicators: HealthIndicatorService,
    private readonly fanOut: FanOutLink,
    private readonly metrics: Metrics,
  ) {}

  onModuleInit(): void {
    this.metrics.registerReadiness(() =>
      this.ready().then(
        () => true,
        () => false,
      ),
    );
  }

  @Get()
  @ApiOperation({ summary: 'Liveness: the process is up', security: [] })
  @ApiOkResponse({ description: 'the process is up', schema: { type: 'object', properties: { status: { type: 'string', enum: ['ok'] } } } })
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('ready')
  @HealthCheck()
  @ApiOperation({
    summary: 'Readiness: the database answers and the fan-out link carries this instance’s heartbeat (503 otherwise, naming what is down)',
    security: [],
  })
  ready(): Promise<HealthCheckResult> {
    return this.health.check([() => this.database.pingCheck('database', { timeout: 2_000 }), () => this.fanOutCheck()]);
  }

  // a player connected here would miss what other instances accept while the link is down
  private fanOutCheck(): HealthIndicatorResult {
    const check = this.indicators.check('fanout');
    const problem = this.fanOut.problem;
    return problem === null ? check.up() : check.down({ message: problem });
  }
}
