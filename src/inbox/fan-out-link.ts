import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';

import { APP_CONFIG, AppConfig } from '../config/app.config';

/** How the link is exercised: a heartbeat the instance sends to itself through the fan-out, and a way to re-make it. */
export interface LinkProbe {
  /** which link ("PostgreSQL LISTEN connection", "Redis subscriber") */
  name: string;
  /** sends one heartbeat, to be heard back through the link (`FanOutLink.heard()`) */
  send(): Promise<unknown>;
  /** drops the link's connection so it is made anew (a half-open one never errors by itself); `FanOutLink.connected()` when it is */
  reset(): void;
}

const HEARTBEATS_MISSED = 3;

/**
 * Whether this instance hears the fan-out (SPEC §6): it sends itself a heartbeat through the link every
 * FANOUT_HEARTBEAT_MS; when none is heard for three of them, the link is down (readiness says so) and is re-made.
 * A connection just made gets three heartbeats of its own before it is judged: re-making one takes longer than
 * the window (the adapter waits 1-3 s), and judging it by the silence before would drop every new one.
 * When heartbeats are heard again, `onRecovered` listeners run: what was announced meanwhile may be lost.
 */
@Injectable()
export class FanOutLink implements OnApplicationShutdown {
  private readonly logger = new Logger(FanOutLink.name);
  private probe?: LinkProbe;
  private timer?: NodeJS.Timeout;
  private lastHeard = Date.now();
  // when the link's connection was last (re)made: silence is counted from here or the last heartbeat heard
  private lastConnected = 0;
  private lastReset = 0;
  private sending = false;
  // not ready until the link has carried a heartbeat: a push announced before would reach nobody here
  private down: string | undefined = 'the fan-out link has carried no heartbeat yet';
  private readonly recovered: Array<() => void> = [];
  private readonly intervalMs: number;

  constructor(@Inject(APP_CONFIG) config: Pick<AppConfig, 'fanOutHeartbeatMs'>) {
    this.intervalMs = config.fanOutHeartbeatMs;
  }

  /** null while the link is up; otherwise why it is not */
  get problem(): string | null {
    return this.down ?? null;
  }

  attach(probe: LinkProbe): void {
    this.probe = probe;
    this.lastHeard = Date.now();
    this.timer = setInterval(() => this.tick(), this.intervalMs);
    this.timer.unref();
    this.send(probe);
  }

  /** The probe made its connection anew (listening again): it is judged from now, and tried at once. */
  connected(): void {
    this.lastConnected = Date.now();
    if (this.probe !== undefined) this.send(this.probe);
  }

  heard(): void {
    this.lastHeard = Date.now();
    if (this.down === undefined) return;
    this.logger.log({ link: this.probe?.name }, 'fan-out link carries heartbeats; catching connected players up');
    this.down = undefined;
    for (const listener of this.recovered) listener();
  }

  onRecovered(listener: () => void): void {
    this.recovered.push(listener);
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  private tick(): void {
    const probe = this.probe;
    if (probe === undefined) return;
    const window = HEARTBEATS_MISSED * this.intervalMs;
    const silentMs = Date.now() - this.lastHeard;
    if (silentMs > window) {
      if (this.down === undefined || !this.down.startsWith(probe.name))
        this.logger.warn({ link: probe.name, silentMs }, 'fan-out link is silent; re-making it');
      this.down = `${probe.name} has carried no heartbeat for ${silentMs} ms`;
      // a connection gets a whole window from when it was made, and a reset a window to be made
      const since = Math.max(this.lastConnected, this.lastReset);
      if (Date.now() - since > window) {
        this.lastReset = Date.now();
        probe.reset();
      }
    }
    this.send(probe);
  }

  private send(probe: LinkProbe): void {
    // one at a time: on a silent link they would only pile up
    if (this.sending) return;
    this.sending = true;
    const window = HEARTBEATS_MISSED * this.intervalMs;
    const timeout = new Promise((_resolve, reject) => setTimeout(() => reject(new Error('heartbeat not sent in time')), window).unref());
    Promise.race([probe.send(), timeout])
      .catch((error: Error) => this.logger.debug({ err: error.message }, 'fan-out heartbeat not sent'))
      .finally(() => (this.sending = false));
  }
}
