import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { parse } from 'yaml';

/** The operations pack in `deploy/`, read by the static checks and the live-scrape e2e. */
export const DEPLOY = join(__dirname, '..', '..', 'deploy');
export const DASHBOARD_FILE = join(DEPLOY, 'grafana', 'cim-inbox.json');
export const RULES_FILE = join(DEPLOY, 'prometheus', 'cim-inbox.rules.yml');
export const RULES_TEST_FILE = join(DEPLOY, 'prometheus', 'cim-inbox.rules.test.yml');
export const PROMETHEUS_CONFIG_FILE = join(DEPLOY, 'prometheus', 'prometheus.yml');

export interface PromtoolRun {
  status: number | null;
  output: string;
}

/**
 * Runs Prometheus' own `promtool` (asynchronously: an app under test may share this process). Missing, it
 * fails the test that needs it, never skips it: CI installs Debian's `prometheus` package, which brings it.
 */
export function promtool(args: string[], input = ''): Promise<PromtoolRun> {
  return new Promise((resolve, reject) => {
    const child = spawn('promtool', args, { timeout: 30_000 });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', (error: NodeJS.ErrnoException) =>
      reject(
        error.code === 'ENOENT'
          ? new Error('promtool is not installed: `apt-get install --no-install-recommends prometheus` brings it (.ci/run does so when it is missing)')
          : error,
      ),
    );
    child.on('close', (status) => resolve({ status, output }));
    child.stdin.on('error', () => undefined); // a promtool that exits early closes its stdin
    child.stdin.end(input);
  });
}

export interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export function loadRules(): Rule[] {
  const file = parse(readFileSync(RULES_FILE, 'utf8')) as { groups: Array<{ name: string; rules: Rule[] }> };
  return file.groups.flatMap((group) => group.rules);
}

export interface Panel {
  id?: number;
  type: string;
  title: string;
  description?: string;
  datasource?: { type?: string; uid?: string };
  gridPos: { h: number; w: number; x: number; y: number };
  targets?: Array<{ expr?: string; refId: string; datasource?: { type?: string; uid?: string } }>;
  panels?: Panel[];
}

export interface Dashboard {
  schemaVersion: number;
  title: string;
  uid: string;
  panels: Panel[];
  templating: { list: Array<{ name: string; type: string; query?: string | { query: string }; datasource?: { uid?: string } }> };
}

export function loadDashboard(): Dashboard {
  return JSON.parse(readFileSync(DASHBOARD_FILE, 'utf8')) as Dashboard;
}

/** Every panel, rows' collapsed children included. */
export function panelsOf(dashboard: Dashboard): Panel[] {
  return dashboard.panels.flatMap((panel) => [panel, ...(panel.panels ?? [])]);
}

/** Each PromQL expression of the pack with where it sits: panel targets, template variable queries, rules. */
export function packExpressions(): Array<{ where: string; expr: string }> {
  const dashboard = loadDashboard();
  const panels = panelsOf(dashboard).flatMap((panel) =>
    (panel.targets ?? []).flatMap((target) => (target.expr === undefined ? [] : [{ where: `panel "${panel.title}" ${target.refId}`, expr: target.expr }])),
  );
  const variables = dashboard.templating.list.flatMap((variable) => {
    if (variable.type !== 'query' || variable.query === undefined) return [];
    const query = typeof variable.query === 'string' ? variable.query : variable.query.query;
    // Grafana's label_values(<selector>, <label>): only the selector is PromQL
    const selector = /^label_values\((.*),\s*[a-zA-Z_]\w*\s*\)$/.exec(query.trim())?.[1] ?? '';
    return [{ where: `variable $${variable.name}`, expr: selector }];
  });
  const rules = loadRules().map((rule) => ({ where: `rule ${rule.alert ?? rule.record}`, expr: rule.expr }));
  return [...panels, ...variables, ...rules];
}

// operators and modifiers that read like identifiers; every function is followed by `(`
const KEYWORDS = new Set([
  'and',
  'or',
  'unless',
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'offset',
  'bool',
  'inf',
  'nan',
  'start',
  'end',
]);

/**
 * The metric names a PromQL expression selects (Grafana's `$variables` allowed in it). Label names,
 * functions, keywords, strings, durations and numbers are not metric names and are left out.
 */
export function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/#.*$/gm, ' ')
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, ' ')
    .replace(/\$\{[^}]*\}|\$\w+/g, ' ')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const names = [...bare.matchAll(/(?<![\w.:])([a-zA-Z_:][\w:]*)(?![\w:])(?!\s*\()/g)].map((match) => match[1]);
  return [...new Set(names.filter((name) => !KEYWORDS.has(name.toLowerCase())))];
}

/** The sample names of a scrape in Prometheus text format, and each metric family's TYPE. */
export function scrapeNames(text: string): { samples: Set<string>; types: Map<string, string> } {
  const samples = new Set<string>();
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)/.exec(line);
    if (type !== null) types.set(type[1], type[2]);
    const sample = /^([a-zA-Z_:][\w:]*)[{ ]/.exec(line);
    if (sample !== null) samples.add(sample[1]);
  }
  return { samples, types };
}

/** The family a sample name belongs to: `x_bucket`, `x_sum` and `x_count` are histogram (or summary) `x`'s. */
export function familyOf(name: string, types: ReadonlyMap<string, string>): string {
  const suffixed = /^(.*)_(bucket|sum|count)$/.exec(name);
  if (
    suffixed !== null &&
    ['histogram', 'summary'].includes(types.get(suffixed[1]) ?? '') &&
    (suffixed[2] !== 'bucket' || types.get(suffixed[1]) === 'histogram')
  ) {
    return suffixed[1];
  }
  return name;
}
