import * as hdr from 'hdr-histogram-js';

/** Percentile of an ascending-sorted sample (nearest rank). */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}

export interface Summary {
  count: number;
  p50: number;
  p99: number;
  p999: number;
  max: number;
}

/** Millisecond samples summarised through an HDR histogram (µs resolution, 3 significant digits). */
export function summarize(samplesMs: number[]): Summary {
  const histogram = hdr.build({ useWebAssembly: false, lowestDiscernibleValue: 1, highestTrackableValue: 600_000_000, numberOfSignificantValueDigits: 3 });
  for (const sample of samplesMs) histogram.recordValue(Math.max(1, Math.round(sample * 1000)));
  const at = (p: number): number => (samplesMs.length === 0 ? Number.NaN : histogram.getValueAtPercentile(p) / 1000);
  return { count: samplesMs.length, p50: at(50), p99: at(99), p999: at(99.9), max: samplesMs.length === 0 ? Number.NaN : histogram.maxValue / 1000 };
}

export function median(values: number[]): number {
  return percentile(
    [...values].sort((a, b) => a - b),
    50,
  );
}

export const ms = (value: number): string => `${value.toFixed(2)} ms`;
