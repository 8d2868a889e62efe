import { ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';

import { eventually, StopWaiting } from './eventually';
import { freePort } from './free-port';

const MAIN = join(__dirname, '..', '..', 'dist', 'main.js');

/** The built app (`node dist/main.js`) as a child process, as `npm start` runs it. */
export class AppProcess {
  stdout = '';
  stderr = '';
  private readonly child: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  /** `nodeArgs` go before the script (e.g. `--inspect=127.0.0.1:9229`, `--cpu-prof`). */
  constructor(env: NodeJS.ProcessEnv, nodeArgs: string[] = []) {
    const base = { ...process.env };
    // the child sees only what the test gives it, not the developer's or the test runner's database
    delete base.DATABASE_URL;
    delete base.CIM_GATEWAYS;
    delete base.CIM_AUTHORIZATION;
    delete base.SMARTICO_API_KEY;
    delete base.NODE_ENV;
    this.child = spawn(process.execPath, [...nodeArgs, MAIN], { env: { ...base, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout!.on('data', (chunk: Buffer) => (this.stdout += chunk.toString()));
    this.child.stderr!.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
    this.exited = new Promise((resolve) => this.child.on('exit', (code, signal) => resolve({ code, signal })));
  }

  /** Starts the app on a free loopback port with `env` and resolves once /health answers. */
  static async startHealthy(env: NodeJS.ProcessEnv, nodeArgs: string[] = []): Promise<{ app: AppProcess; url: string }> {
    const port = await freePort();
    const app = new AppProcess({ ...env, PORT: String(port), HOST: '127.0.0.1' }, nodeArgs);
    const url = `http://127.0.0.1:${port}`;
    await app.waitForHealthy(url);
    return { app, url };
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** Resolves once stdout contains `text`; rejects if the process exits first or time runs out. */
  async waitFor(text: string | RegExp, timeoutMs = 30_000): Promise<void> {
    const exited = this.hasExited();
    const found = (): boolean => {
      if (exited()) throw new StopWaiting(`app exited before printing ${String(text)}:\n${this.stdout}\n${this.stderr}`);
      return typeof text === 'string' ? this.stdout.includes(text) : text.test(this.stdout);
    };
    await eventually(found, { what: () => `the app to print ${String(text)}:\n${this.stdout}\n${this.stderr}`, timeoutMs, everyMs: 50 });
  }

  /** Resolves once GET <baseUrl>/health answers 200. */
  async waitForHealthy(baseUrl: string, timeoutMs = 30_000): Promise<void> {
    const exited = this.hasExited();
    const healthy = async (): Promise<boolean> => {
      if (exited()) throw new StopWaiting(`app exited before becoming healthy:\n${this.stdout}\n${this.stderr}`);
      return (await fetch(`${baseUrl}/health`)).ok; // refused until it listens
    };
    await eventually(healthy, { what: () => `the app to be healthy:\n${this.stdout}\n${this.stderr}`, timeoutMs, everyMs: 50 });
  }

  private hasExited(): () => boolean {
    let exited = false;
    void this.exited.then(() => (exited = true));
    return () => exited;
  }

  kill(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }
}
