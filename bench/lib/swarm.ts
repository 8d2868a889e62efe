/**
 * A swarm of held sockets in child processes (bench/lib/swarm-worker.ts, a few thousand file
 * descriptors each), connected one worker after another. Every socket acks each `message` as the SDK
 * does; with `onMessage` each worker also reports what its sockets received and when (monotonicMs:
 * the machine's monotonic clock, the same in every process).
 */
import { ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';

import type { Target } from './sockets';

const PER_WORKER = 5_000;

/** Milliseconds on CLOCK_MONOTONIC (ns resolution): comparable across processes on one machine. */
export const monotonicMs = (): number => Number(process.hrtime.bigint()) / 1e6;

export interface SwarmOptions {
  /** called for each `message` a socket received (its im_uid), at `at` (see monotonicMs) */
  onMessage?: (imUid: string, at: number) => void;
}

export class Swarm {
  private readonly workers: ChildProcess[] = [];
  private readonly dropped: number[] = [];

  /** Players are `${prefix}-0` … `${prefix}-${sockets - 1}`. */
  async start(target: Target, url: string, sockets: number, prefix: string, options: SwarmOptions = {}): Promise<void> {
    for (let first = 0; first < sockets; first += PER_WORKER) {
      const count = Math.min(PER_WORKER, sockets - first);
      const index = this.workers.length;
      this.dropped.push(0);
      const args = [join(__dirname, 'swarm-worker.ts'), target, url, String(first), String(count), prefix, options.onMessage ? 'report' : 'quiet'];
      const worker = spawn(process.execPath, ['--import', 'tsx', ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
      this.workers.push(worker);
      let partial = '';
      // workers connect one after another: a stampede of handshakes is not what is measured here
      await new Promise<void>((resolve, reject) => {
        worker.stdout.on('data', (chunk: Buffer) => {
          const lines = (partial + chunk.toString()).split('\n');
          partial = lines.pop()!;
          for (const line of lines) {
            if (line.startsWith('m ')) {
              const [, imUid, at] = line.split(' ');
              options.onMessage?.(imUid, Number(at));
            } else if (line.startsWith('connected')) resolve();
            else {
              const match = /^dropped (\d+)/.exec(line);
              if (match) this.dropped[index] = Number(match[1]);
            }
          }
        });
        worker.once('exit', (code) => reject(new Error(`swarm worker exited with ${code}`)));
      });
    }
  }

  droppedCount(): number {
    return this.dropped.reduce((sum, n) => sum + n, 0);
  }

  pids(): number[] {
    return this.workers.map((worker) => worker.pid!);
  }

  async stop(): Promise<void> {
    await Promise.all(
      this.workers.map(
        (worker) =>
          new Promise<void>((resolve) => {
            if (worker.exitCode !== null) return resolve();
            worker.removeAllListeners('exit');
            worker.once('exit', () => resolve());
            worker.kill('SIGTERM');
          }),
      ),
    );
  }
}
