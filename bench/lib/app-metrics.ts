/** The app's own counters, read from its GET /metrics (Prometheus text) as an operator would. */
export type Counters = (name: string, labels?: Record<string, string>) => number;

/** A reading of every counter now: a value is the sum of the series of `name` that carry `labels`. */
export async function readCounters(url: string): Promise<Counters> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const series = text
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)/.exec(line);
      return match === null ? undefined : { name: match[1], labels: match[2] ?? '', value: Number(match[3]) };
    });
  return (name, labels = {}) =>
    series
      .filter((one) => one?.name === name && Object.entries(labels).every(([key, value]) => one.labels.includes(`${key}="${value}"`)))
      .reduce((sum, one) => sum + one!.value, 0);
}
