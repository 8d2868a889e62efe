import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** Names follow SPEC §6; a registry per app, as tests run several apps in one process. */
@Injectable()
export class Metrics {
  readonly registry = new Registry();

  readonly messagesAccepted = new Counter({
    name: 'cim_messages_accepted_total',
    help: 'Custom IM messages accepted (stored) by the gateway, by brand',
    labelNames: ['brand'] as const,
    registers: [this.registry],
  });
  readonly messagesRefused = new Counter({
    name: 'cim_messages_refused_total',
    help: 'Gateway requests refused, by Smartico error_code and brand (empty before the gateway is known)',
    labelNames: ['code', 'brand'] as const,
    registers: [this.registry],
  });
  readonly gatewayDuration = new Histogram({
    name: 'cim_gateway_request_duration_seconds',
    help: 'Time to answer a gateway request',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  readonly socketsConnected = new Gauge({ name: 'cim_sockets_connected', help: 'Player sockets connected to this instance', registers: [this.registry] });
  readonly deliveryLatency = new Histogram({
    name: 'cim_delivery_latency_seconds',
    help: 'Time from a message being accepted to its first delivery ack, by brand',
    labelNames: ['brand'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 30, 300, 3600, 86400],
    registers: [this.registry],
  });
  readonly pushAckLatency = new Histogram({
    name: 'cim_push_ack_latency_seconds',
    help: 'Time from a message being emitted to a socket to that socket acking it',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5],
    registers: [this.registry],
  });
  readonly fanOutAnnounced = new Counter({
    name: 'cim_fanout_announced_total',
    help: 'Messages accepted here and announced to other instances (none while this instance is alone)',
    registers: [this.registry],
  });
  readonly fanOutReceived = new Counter({
    name: 'cim_fanout_received_total',
    help: 'Messages accepted elsewhere and heard here, by whether a player of theirs has a socket here (for_players_here)',
    labelNames: ['for_players_here'] as const,
    registers: [this.registry],
  });
  readonly callbacks = new Counter({
    name: 'cim_callbacks_total',
    help: 'Status callback attempts to Smartico, by status and result (sent, failed = will retry, dead = gave up)',
    labelNames: ['status', 'result'] as const,
    registers: [this.registry],
  });

  readonly leader = new Gauge({
    name: 'cim_leader',
    help: 'Whether this instance is the leader, which runs the periodic work (1) or not (0)',
    registers: [this.registry],
  });
  readonly expirySweeps = new Counter({
    name: 'cim_expiry_sweeps_total',
    help: 'Expiry sweeps run by this instance (the leader only)',
    registers: [this.registry],
  });
  readonly expiryFailed = new Counter({
    name: 'cim_expiry_failed_total',
    help: "Messages failed by this instance's expiry sweep (expired undelivered)",
    registers: [this.registry],
  });

  readonly retentionDeleted = new Counter({
    name: 'cim_retention_deleted_total',
    help: "Messages (with their events, callbacks and attempts) deleted by this instance's retention job (MESSAGE_RETENTION_DAYS)",
    registers: [this.registry],
  });
  readonly oldestMessageAge = new Gauge({
    name: 'cim_oldest_message_age_seconds',
    help: 'Age of the oldest stored message, as of the last retention run (the leader only)',
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    // gauges named like counters (promtool check metrics objects); their `{type}` series without `_total` sum to the same
    for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) this.registry.removeSingleMetric(name);
  }

  /** `cim_ready`: the readiness check run at scrape time, so an alert needs no prober of `/health/ready`. */
  registerReadiness(ready: () => Promise<boolean>): void {
    new Gauge({
      name: 'cim_ready',
      help: 'Whether GET /health/ready would answer 200 (1: the database answers and the fan-out link carries the heartbeat) or 503 (0)',
      registers: [this.registry],
      async collect() {
        this.set((await ready()) ? 1 : 0);
      },
    });
  }

  /**
   * Outbox gauges, read from the shared outbox at scrape time. Exposed only while `expose(true)`
   * (on the leader): elsewhere the series are absent, so `sum()` or `max()` across instances is the
   * leader's reading, and no instance claims a count it did not read.
   */
  registerOutboxGauges(read: () => Promise<{ pending: number; dead: number; lagSeconds: number }>): { expose(exposed: boolean): void } {
    let scrape: ReturnType<typeof read> | undefined;
    // one query per scrape for the three gauges
    const once = (): ReturnType<typeof read> => {
      scrape ??= read().finally(() => setImmediate(() => (scrape = undefined)));
      return scrape;
    };
    const gauge = (name: string, help: string, pick: (state: Awaited<ReturnType<typeof read>>) => number): { name: string; metric: Gauge } => ({
      name,
      metric: new Gauge({
        name,
        help,
        registers: [],
        async collect() {
          this.set(pick(await once()));
        },
      }),
    });
    const gauges = [
      gauge('cim_callbacks_pending', 'Status callbacks waiting to be sent (all instances; reported by the leader)', (state) => state.pending),
      gauge('cim_callbacks_dead', 'Status callbacks given up on (all instances; reported by the leader)', (state) => state.dead),
      gauge('cim_outbox_lag_seconds', 'Age of the oldest status callback that is due and not yet sent (reported by the leader)', (state) => state.lagSeconds),
    ];
    return {
      expose: (exposed) => {
        for (const { name, metric } of gauges) {
          if (exposed) this.registry.registerMetric(metric);
          else this.registry.removeSingleMetric(name);
        }
      },
    };
  }
}
