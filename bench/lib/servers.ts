/**
 * The processes a benchmark measures: cim-inbox (the built app, as `npm start` runs it) and the
 * baselines, each a child process on loopback, optionally with an inspector the bench uses to force
 * a GC and read the heap (no code in the app is there for the benchmark).
 */
import { ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';

import { AppProcess } from '../../test/utils/app-process';
import { freePort } from '../../test/utils/free-port';
import { Inspector } from '../../test/utils/inspector';

export type { Memory } from '../../test/utils/inspector';

export const BENCH_SECRETS = {
  authorization: 'bench-gateway-secret',
  apiKey: 'bench-api-key',
  playerJwtSecret: 'bench-player-secret-that-is-at-least-32-bytes',
};

export interface Running {
  url: string;
  pid: number;
  /** what the process printed so far (cim-inbox only) */
  output?: () => string;
  inspector?: Inspector;
  stop(): Promise<void>;
  /** kill -9: no shutdown at all, as a crash or a lost machine; resolves once it is gone. */
  crash(): Promise<void>;
  /** SIGSTOP/SIGCONT: takes the process off the CPU while another one is measured. */
  pause(): void;
  resume(): void;
}

export interface StartOptions {
  inspect?: boolean;
  /** e.g. ['--cpu-prof', '--cpu-prof-dir=…'] to profile the run */
  nodeArgs?: string[];
  env?: NodeJS.ProcessEnv;
}

async function inspectArgs(inspect: boolean | undefined): Promise<{ args: string[]; port?: number }> {
  if (!inspect) return { args: [] };
  const port = await freePort();
  return { args: [`--inspect=127.0.0.1:${port}`], port };
}

/** cim-inbox, built (`dist/main.js`), on a free loopback port. */
export async function startCim(databaseUrl: string, options: StartOptions = {}): Promise<Running> {
  const inspect = await inspectArgs(options.inspect);
  const { app, url } = await AppProcess.startHealthy(
    {
      DATABASE_URL: databaseUrl,
      CIM_AUTHORIZATION: BENCH_SECRETS.authorization,
      SMARTICO_API_KEY: BENCH_SECRETS.apiKey,
      PLAYER_JWT_SECRET: BENCH_SECRETS.playerJwtSecret,
      CALLBACK_ALLOWED_HOSTS: '127.0.0.1',
      LOG_LEVEL: 'warn',
      DB_POOL_SIZE: '20',
      // the load generator is one address: the per-player REST limit is not what is measured
      PLAYER_RATE_LIMIT_PER_MIN: '1000000',
      ...options.env,
    },
    [...inspect.args, ...(options.nodeArgs ?? [])],
  );
  const inspector = inspect.port === undefined ? undefined : await Inspector.connect(inspect.port);
  return {
    url,
    pid: app.pid,
    output: () => app.stdout,
    inspector,
    crash: async () => {
      app.kill('SIGKILL');
      await app.exited;
    },
    pause: () => app.kill('SIGSTOP'),
    resume: () => app.kill('SIGCONT'),
    stop: async () => {
      inspector?.close();
      app.kill('SIGCONT');
      app.kill('SIGTERM');
      await app.exited;
    },
  };
}

/** A baseline server from bench/baselines (run through tsx), ready once it prints "ready". */
export async function startBaseline(script: string, env: NodeJS.ProcessEnv = {}, options: StartOptions = {}): Promise<Running> {
  const port = await freePort();
  const inspect = await inspectArgs(options.inspect);
  const child: ChildProcess = spawn(
    process.execPath,
    [...inspect.args, ...(options.nodeArgs ?? []), '--import', 'tsx', join(__dirname, '..', 'baselines', script)],
    {
      env: { ...process.env, ...env, PORT: String(port) },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('ready')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code} before it was ready`)));
  });
  const inspector = inspect.port === undefined ? undefined : await Inspector.connect(inspect.port);
  return {
    url: `http://127.0.0.1:${port}`,
    pid: child.pid!,
    inspector,
    crash: async () => {
      child.kill('SIGKILL');
      await exited;
    },
    pause: () => child.kill('SIGSTOP'),
    resume: () => child.kill('SIGCONT'),
    stop: async () => {
      inspector?.close();
      child.kill('SIGCONT');
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** A baseline program from bench/baselines that does its work and exits: its last line of output, parsed as JSON. */
export async function runBaseline<T>(script: string, env: NodeJS.ProcessEnv): Promise<T> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, '..', 'baselines', script)], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`${script} exited with ${code}`);
  return JSON.parse(output.trim().split('\n').pop()!) as T;
}
