import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { parse, stringify } from 'yaml';

import { DEPLOY, loadDashboard, loadRules, panelsOf, PROMETHEUS_CONFIG_FILE, promtool, RULES_FILE, RULES_TEST_FILE } from '../utils/ops-pack';

// the live-scrape half (promtool check metrics, every name in a scrape) is test/e2e/ops-pack.e2e-spec.ts

describe('Prometheus rules (deploy/prometheus)', () => {
  const rules = loadRules();
  const alerts = rules.filter((rule) => rule.alert !== undefined);

  it('pass `promtool check rules`', async () => {
    const run = await promtool(['check', 'rules', RULES_FILE]);
    expect(run.output).toContain(`SUCCESS: ${rules.length} rules found`);
    expect(run.status).toBe(0);
  });

  it('pass their unit tests (`promtool test rules`), which make every alert fire', async () => {
    const run = await promtool(['test', 'rules', RULES_TEST_FILE]);
    expect(run.output).toContain('SUCCESS');
    expect(run.status).toBe(0);

    const tests = parse(readFileSync(RULES_TEST_FILE, 'utf8')) as { tests: Array<{ alert_rule_test?: Array<{ alertname: string; exp_alerts: unknown[] }> }> };
    const firing = new Set(
      tests.tests.flatMap((test) => (test.alert_rule_test ?? []).filter((check) => check.exp_alerts.length > 0).map((check) => check.alertname)),
    );
    expect(alerts.map((alert) => alert.alert).filter((name) => !firing.has(name!))).toEqual([]);
  });

  it('cover what issue 18 asks: outbox lag, dead callbacks, readiness, error_code 5, delivery latency p99', () => {
    const exprOf = (name: string): string => alerts.find((alert) => alert.alert === name)?.expr ?? '';
    expect(exprOf('CimOutboxLagging')).toMatch(/cim_outbox_lag_seconds\) > 300$/);
    expect(exprOf('CimCallbacksDead')).toContain('cim_callbacks_total{result="dead"}');
    expect(exprOf('CimNotReady')).toBe('cim_ready == 0');
    expect(exprOf('CimInstanceDown')).toContain('up{');
    expect(exprOf('CimGatewayUnavailable')).toContain('cim_messages_refused_total{code="5"}');
    expect(rules.find((rule) => rule.record === exprOf('CimDeliveryLatencyHigh').split(' ')[0])?.expr).toMatch(/^histogram_quantile\(0\.99, /);
  });

  it('each alert has a `for`, a severity, a summary and a description, and a runbook entry in deploy/README.md', () => {
    const readme = readFileSync(join(DEPLOY, 'README.md'), 'utf8');
    for (const alert of alerts) {
      expect([alert.alert, alert.for]).toEqual([alert.alert, expect.stringMatching(/^\d+m$/)]);
      expect([alert.alert, alert.labels?.severity]).toEqual([alert.alert, expect.stringMatching(/^(critical|warning)$/)]);
      expect([alert.alert, Object.keys(alert.annotations ?? {}).sort()]).toEqual([alert.alert, ['description', 'summary']]);
      expect([alert.alert, readme.includes(`### ${alert.alert}\n`)]).toEqual([alert.alert, true]);
    }
  });

  it('are loaded by the example prometheus.yml (`promtool check config`)', async () => {
    const run = await promtool(['check', 'config', PROMETHEUS_CONFIG_FILE]);
    expect(run.output).toContain('SUCCESS: 1 rule files found');
    expect(run.status).toBe(0);
  });
});

describe('Grafana dashboard (deploy/grafana/cim-inbox.json)', () => {
  const dashboard = loadDashboard();
  const panels = panelsOf(dashboard).filter((panel) => panel.type !== 'row');
  const targets = panels.flatMap((panel) => (panel.targets ?? []).map((target) => ({ panel, target, expr: target.expr ?? '' })));

  it('is a dashboard Grafana imports: schemaVersion 39, a data source variable and per-instance variables', () => {
    expect(dashboard.schemaVersion).toBe(39);
    expect(dashboard.uid).toBe('cim-inbox');
    const variables = Object.fromEntries(dashboard.templating.list.map((variable) => [variable.name, variable]));
    expect(variables.DS_PROMETHEUS).toMatchObject({ type: 'datasource', query: 'prometheus' });
    expect(variables.job).toMatchObject({ type: 'query', query: { query: 'label_values(cim_sockets_connected, job)' } });
    expect(variables.instance).toMatchObject({
      type: 'query',
      query: { query: 'label_values(cim_sockets_connected{job=~"$job"}, instance)' },
      multi: true,
      includeAll: true,
    });
  });

  it('reads every panel and query from the ${DS_PROMETHEUS} data source, with unique panel ids inside the 24-column grid', () => {
    const all = panelsOf(dashboard);
    expect(new Set(all.map((panel) => panel.id)).size).toBe(all.length);
    for (const panel of panels) {
      expect([panel.title, panel.datasource]).toEqual([panel.title, { type: 'prometheus', uid: '${DS_PROMETHEUS}' }]);
      expect([panel.title, (panel.targets ?? []).length > 0]).toEqual([panel.title, true]);
      expect([panel.title, panel.gridPos.x + panel.gridPos.w <= 24]).toEqual([panel.title, true]);
    }
    for (const { panel, target } of targets) expect([panel.title, target.datasource]).toEqual([panel.title, { type: 'prometheus', uid: '${DS_PROMETHEUS}' }]);
  });

  it('has the panels issue 18 names', () => {
    const titles = panels.map((panel) => panel.title);
    for (const title of [
      'Acceptance rate per instance',
      'Refusals by error_code',
      'Gateway latency percentiles',
      'Sockets connected',
      'Delivery latency (accepted → first ack)',
      'Callbacks by status and result',
      'Outbox pending and dead',
      'Outbox lag',
      'Event loop lag',
      'Messages deleted by retention',
      'Oldest message age',
    ]) {
      expect(titles).toContain(title);
    }
  });

  it('selects by the $job variable everywhere and by $instance wherever a series is per instance', () => {
    // the outbox gauges and the oldest message's age are the leader's reading of shared state: filtered by job only
    const shared = /^(cim_callbacks_pending|cim_callbacks_dead|cim_outbox_lag_seconds|cim_oldest_message_age_seconds)\{/;
    for (const { panel, expr } of targets) {
      for (const selector of expr.matchAll(/([a-z_:]+)\{([^}]*)\}/g)) {
        expect([panel.title, selector[0], selector[2].includes('job=~"$job"')]).toEqual([panel.title, selector[0], true]);
        if (!shared.test(selector[0]))
          expect([panel.title, selector[0], selector[2].includes('instance=~"$instance"')]).toEqual([panel.title, selector[0], true]);
      }
    }
  });

  it("has only valid PromQL (each query checked by promtool as a rule, Grafana's variables filled in)", async () => {
    const grafana = (expr: string): string => expr.replaceAll('$__rate_interval', '1m').replaceAll('$job', '.*').replaceAll('$instance', '.*');
    const file = { groups: [{ name: 'dashboard', rules: targets.map(({ expr }, index) => ({ record: `dashboard:query_${index}`, expr: grafana(expr) })) }] };
    const dir = mkdtempSync(join(tmpdir(), 'cim-dashboard-'));
    try {
      writeFileSync(join(dir, 'queries.yml'), stringify(file));
      const run = await promtool(['check', 'rules', join(dir, 'queries.yml')]);
      expect(run.output).toContain(`SUCCESS: ${targets.length} rules found`);
      expect(run.status).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('is the file deploy/README.md tells operators to import, beside the rules to load', () => {
    const readme = readFileSync(join(DEPLOY, 'README.md'), 'utf8');
    expect(readme).toContain('grafana/cim-inbox.json');
    expect(readme).toContain('prometheus/cim-inbox.rules.yml');
  });
});
