import { ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';

const MAIN = join(__dirname, '..', '..', 'dist', 'main.js');

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.on('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

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
    const found = (): boolean => (typeof text === 'string' ? this.stdout.includes(text) : text.test(this.stdout));
    const deadline = Date.now() + timeoutMs;
    let exited = false;
    void this.exited.then(() => (exited = true));
    while (!found()) {
      if (exited) throw new Error(`app exited before printing ${String(text)}:\n${this.stdout}\n${this.stderr}`);
      if (Date.now() > deadline) throw new Error(`app did not print ${String(text)} in ${timeoutMs} ms:\n${this.stdout}\n${this.stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** Resolves once GET <baseUrl>/health answers 200. */
  async waitForHealthy(baseUrl: string, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let exited = false;
    void this.exited.then(() => (exited = true));
    for (;;) {
      if (exited) throw new Error(`app exited before becoming healthy:\n${this.stdout}\n${this.stderr}`);
      try {
        if ((await fetch(`${baseUrl}/health`)).ok) return;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`app not healthy in ${timeoutMs} ms:\n${this.stdout}\n${this.stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  kill(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }
}
