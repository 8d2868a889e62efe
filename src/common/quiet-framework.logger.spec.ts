import type { LoggerService } from '@nestjs/common';

import { QuietFrameworkLogger } from './quiet-framework.logger';

describe('QuietFrameworkLogger', () => {
  const recorder = (): { calls: Array<[string, unknown[]]>; logger: LoggerService } => {
    const calls: Array<[string, unknown[]]> = [];
    const record =
      (level: string) =>
      (...args: unknown[]): void =>
        void calls.push([level, args]);
    return { calls, logger: { log: record('log'), error: record('error'), warn: record('warn'), debug: record('debug'), verbose: record('verbose') } };
  };

  it("puts Nest's start-up lines at debug and passes everything else through at its level", () => {
    const { calls, logger } = recorder();
    const sut = new QuietFrameworkLogger(logger);
    sut.log('AppModule dependencies initialized', 'InstanceLoader');
    sut.log('Mapped {/health, GET} route', 'RouterExplorer');
    sut.log('expired undelivered messages failed', 'TrackingService');
    sut.warn('fan-out connection error', 'InboxIoAdapter');
    sut.error('boom', 'stack', 'RoutesResolver');
    sut.fatal('down');
    expect(calls).toEqual([
      ['debug', ['AppModule dependencies initialized', 'InstanceLoader']],
      ['debug', ['Mapped {/health, GET} route', 'RouterExplorer']],
      ['log', ['expired undelivered messages failed', 'TrackingService']],
      ['warn', ['fan-out connection error', 'InboxIoAdapter']],
      ['error', ['boom', 'stack', 'RoutesResolver']],
      ['error', ['down']],
    ]);
  });
});
