/**
 * The bench's outputs: one table (stdout and Markdown), the JSON of every figure, and an SVG plot
 * of the latency percentiles, all made from the results of this run.
 */
import type { Summary } from './stats';

export interface Row {
  scenario: string;
  figure: string;
  cim: string;
  baseline: string;
  ratio: string;
  target: string;
  met: boolean | null;
}

export function markdownTable(rows: Row[]): string {
  const lines = ['| scenario | figure | cim-inbox | baseline | ratio | target | met |', '|---|---|---|---|---|---|---|'];
  for (const row of rows) {
    const met = row.met === null ? '–' : row.met ? '✅' : '❌';
    lines.push(`| ${row.scenario} | ${row.figure} | ${row.cim} | ${row.baseline} | ${row.ratio} | ${row.target} | ${met} |`);
  }
  return lines.join('\n');
}

export interface LatencySeries {
  label: string;
  summary: Summary;
  baseline: boolean;
}

export interface LatencyGroup {
  title: string;
  series: LatencySeries[];
}

const PERCENTILES: Array<[keyof Summary, string]> = [
  ['p50', 'p50'],
  ['p99', 'p99'],
  ['p999', 'p99.9'],
  ['max', 'max'],
];

const escapeXml = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Horizontal bars on a log scale (ms), one block per group, one bar per series and percentile. */
export function latencySvg(groups: LatencyGroup[], caption: string): string {
  const values = groups
    .flatMap((group) => group.series.flatMap((series) => PERCENTILES.map(([key]) => series.summary[key])))
    .filter((v) => Number.isFinite(v) && v > 0);
  const low = Math.pow(10, Math.floor(Math.log10(Math.max(0.01, Math.min(...values)))));
  const high = Math.pow(10, Math.ceil(Math.log10(Math.max(...values))));
  const left = 250;
  const width = 900;
  const plot = width - left - 30;
  const barHeight = 9;
  const x = (value: number): number => left + (plot * (Math.log10(Math.max(value, low)) - Math.log10(low))) / (Math.log10(high) - Math.log10(low));
  const parts: string[] = [];
  let y = 50;
  for (const group of groups) {
    parts.push(`<text x="10" y="${y}" font-weight="bold">${escapeXml(group.title)}</text>`);
    y += 8;
    for (const series of group.series) {
      parts.push(`<text x="20" y="${y + 2 * barHeight}" font-size="12">${escapeXml(series.label)}</text>`);
      PERCENTILES.forEach(([key, name], index) => {
        const value = series.summary[key];
        const top = y + index * barHeight;
        if (!Number.isFinite(value)) return;
        const fill = series.baseline ? ['#9ecae1', '#6baed6', '#3182bd', '#08519c'][index] : ['#fdae6b', '#fd8d3c', '#e6550d', '#a63603'][index];
        parts.push(`<rect x="${left}" y="${top}" width="${Math.max(1, x(value) - left).toFixed(1)}" height="${barHeight - 1}" fill="${fill}"/>`);
        parts.push(
          `<text x="${(x(value) + 4).toFixed(1)}" y="${top + barHeight - 1}" font-size="9">${name} ${value < 10 ? value.toFixed(2) : value.toFixed(0)} ms</text>`,
        );
      });
      y += PERCENTILES.length * barHeight + 10;
    }
    y += 10;
  }
  const axisY = y;
  const ticks: string[] = [];
  for (let tick = low; tick <= high * 1.0001; tick *= 10) {
    ticks.push(`<line x1="${x(tick).toFixed(1)}" y1="40" x2="${x(tick).toFixed(1)}" y2="${axisY}" stroke="#ddd"/>`);
    ticks.push(`<text x="${x(tick).toFixed(1)}" y="${axisY + 14}" font-size="11" text-anchor="middle">${tick >= 1 ? tick.toFixed(0) : tick} ms</text>`);
  }
  const height = axisY + 50;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="10" y="22" font-size="15" font-weight="bold">Latency percentiles (log scale): orange cim-inbox, blue baseline</text>`,
    ...ticks,
    ...parts,
    `<text x="10" y="${height - 12}" font-size="10" fill="#555">${escapeXml(caption)}</text>`,
    '</svg>',
  ].join('\n');
}
