import { familyOf, metricNames, scrapeNames } from './ops-pack';

describe('metricNames (the metric names a PromQL expression selects)', () => {
  it.each([
    ['up{job="cim-inbox"} == 0', ['up']],
    ['histogram_quantile(0.99, sum by (job, le) (rate(cim_push_ack_latency_seconds_bucket[5m])))', ['cim_push_ack_latency_seconds_bucket']],
    [
      'sum by (instance) (rate(cim_messages_accepted_total{job=~"$job", instance=~"$instance"}[$__rate_interval])) / sum by (instance) (rate(cim_gateway_request_duration_seconds_count{instance=~"${instance}"}[5m]))',
      ['cim_messages_accepted_total', 'cim_gateway_request_duration_seconds_count'],
    ],
    [
      'sum by (job) (job_code:cim_messages_refused:rate5m{code!="5"}) / job:cim_gateway_requests:rate5m > 0.5',
      ['job_code:cim_messages_refused:rate5m', 'job:cim_gateway_requests:rate5m'],
    ],
    ['max(cim_outbox_lag_seconds offset 5m) > 3e2 and on(job) cim_leader unless ignoring (instance) bool vector(1)', ['cim_outbox_lag_seconds', 'cim_leader']],
    ['label_replace(cim_sockets_connected, "host", "$1", "instance", "(.*):.*") + Inf - NaN', ['cim_sockets_connected']],
    ['sum(rate(process_cpu_seconds_total[5m:1m])) # a comment naming not_a_metric', ['process_cpu_seconds_total']],
    ['sum(x) without (le) * on (instance) group_left (brand) y', ['x', 'y']],
    ['1 + 2', []],
  ])('%s', (expr, names) => {
    expect(metricNames(expr)).toEqual(names);
  });
});

describe('scrapeNames and familyOf', () => {
  const text = [
    '# HELP h a histogram',
    '# TYPE h histogram',
    'h_bucket{le="1"} 1',
    'h_bucket{le="+Inf"} 1',
    'h_sum 0.5',
    'h_count 1',
    '# TYPE c_total counter',
    'c_total{code="1"} 3',
    '# TYPE g_count gauge',
    'g_count 2',
  ].join('\n');

  it('reads sample names and TYPEs', () => {
    const { samples, types } = scrapeNames(text);
    expect([...samples]).toEqual(['h_bucket', 'h_sum', 'h_count', 'c_total', 'g_count']);
    expect(types.get('h')).toBe('histogram');
  });

  it("strips a histogram's suffixes only", () => {
    const { types } = scrapeNames(text);
    expect(['h_bucket', 'h_sum', 'h_count', 'c_total', 'g_count'].map((name) => familyOf(name, types))).toEqual(['h', 'h', 'h', 'c_total', 'g_count']);
  });
});
