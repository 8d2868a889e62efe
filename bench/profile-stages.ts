/**
 * Where a cim-inbox CPU profile's time goes, by stage:
 *   npm run bench:profile-stages -- <file.cpuprofile> [--windows cpu-windows.json] [--top 25]
 * Each sample is put in the stage of the first frame, walking from the sampled function towards
 * the root, that belongs to one (so Node's socket writes under socket.io count as push, a pg
 * parser under the ack's statement as the pg driver). With --windows (written by the cpu scenario
 * beside the profile) only the samples inside the measured windows count. Prints CPU ms per stage
 * (idle excluded) and the top functions by self time with their stage.
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** First match wins; a frame's `where` is its url (or its name for V8's own entries). */
const STAGES: Array<[stage: string, pattern: RegExp]> = [
  ['GC', /^\(garbage collector\)$/],
  ['idle', /^\(idle\)$/],
  ['V8 / native (program)', /^\(program\)$/],
  ['logging', /node_modules\/(pino|pino-http|nestjs-pino|sonic-boom|thread-stream)\//],
  ['metrics', /node_modules\/prom-client\//],
  ['pg driver', /node_modules\/(pg|pg-protocol|pg-pool|pg-types|postgres-array|typeorm)\//],
  ['dispatcher / undici', /node_modules\/undici\/|\/dist\/tracking\/(?!tracking\.service)/],
  ['ack (and its record)', /\/dist\/messages\/message-state\.repository|\/dist\/tracking\/tracking\.service/],
  ['push / socket.io / ws', /node_modules\/(socket\.io|socket\.io-parser|socket\.io-adapter|@socket\.io|engine\.io|engine\.io-parser|ws)\/|\/dist\/inbox\//],
  [
    'gateway / parse / HTTP',
    /node_modules\/(fastify|@fastify|find-my-way|avvio|light-my-request|secure-json-parse|fast-json-stringify|@nestjs|rxjs)\/|\/dist\//,
  ],
];
const OTHER = 'Node internals (net, streams, timers) / other';

function where(node: ProfileNode): string {
  return node.callFrame.url === '' ? node.callFrame.functionName : node.callFrame.url;
}

function stageOf(node: ProfileNode, parent: Map<number, ProfileNode>): string {
  for (let at: ProfileNode | undefined = node; at !== undefined; at = parent.get(at.id)) {
    const found = STAGES.find(([, pattern]) => pattern.test(where(at)));
    if (found) return found[0];
  }
  return OTHER;
}

function main(): void {
  const args = process.argv.slice(2);
  const file = args[0];
  if (file === undefined || file.startsWith('--')) throw new Error('usage: profile-stages <file.cpuprofile> [--windows cpu-windows.json] [--top N]');
  const option = (name: string): string | undefined => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
  const top = Number(option('--top') ?? 25);
  const windowsFile = option('--windows');
  const windows = windowsFile ? (JSON.parse(readFileSync(windowsFile, 'utf8')) as { windows: Array<{ fromUs: number; toUs: number }> }).windows : undefined;
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, ProfileNode>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node);

  const stageMs = new Map<string, number>();
  const selfMs = new Map<string, { ms: number; stage: string }>();
  let at = profile.startTime;
  for (let i = 0; i < profile.samples.length; i += 1) {
    at += profile.timeDeltas[i];
    if (windows && !windows.some((window) => at >= window.fromUs && at <= window.toUs)) continue;
    // a sample stands for the time until the next one
    const ms = (profile.timeDeltas[i + 1] ?? 0) / 1000;
    const node = byId.get(profile.samples[i])!;
    const stage = stageOf(node, parent);
    stageMs.set(stage, (stageMs.get(stage) ?? 0) + ms);
    const name = `${node.callFrame.functionName || '(anonymous)'} ${where(node)
      .replace(/^.*node_modules\//, '')
      .replace(/^.*\/dist\//, 'dist/')}:${node.callFrame.lineNumber + 1}`;
    // one function can serve several stages (a socket write under ws, pg or Fastify)
    const key = `${name}\t${stage}`;
    const entry = selfMs.get(key) ?? { ms: 0, stage };
    entry.ms += ms;
    selfMs.set(key, entry);
  }
  const busy = [...stageMs].filter(([stage]) => stage !== 'idle').reduce((sum, [, ms]) => sum + ms, 0);
  const pct = (ms: number): string => `${((ms / busy) * 100).toFixed(1)} %`;
  process.stdout.write(
    `${file}${windows ? ` (${windows.length} windows)` : ''}: ${busy.toFixed(0)} ms busy (idle ${(stageMs.get('idle') ?? 0).toFixed(0)} ms)\n\n`,
  );
  process.stdout.write('| stage | CPU ms | share |\n|---|---|---|\n');
  for (const [stage, ms] of [...stageMs].filter(([s]) => s !== 'idle').sort((a, b) => b[1] - a[1]))
    process.stdout.write(`| ${stage} | ${ms.toFixed(0)} | ${pct(ms)} |\n`);
  process.stdout.write('\n| function (self time) | stage | CPU ms | share |\n|---|---|---|---|\n');
  for (const [name, { ms, stage }] of [...selfMs]
    .filter(([, e]) => e.stage !== 'idle')
    .sort((a, b) => b[1].ms - a[1].ms)
    .slice(0, top))
    process.stdout.write(`| \`${name.split('\t')[0]}\` | ${stage} | ${ms.toFixed(0)} | ${pct(ms)} |\n`);
}

main();
