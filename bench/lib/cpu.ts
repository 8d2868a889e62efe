import { readFileSync, readdirSync } from 'node:fs';

const TICKS_PER_SECOND = 100;

function processCpuSeconds(pid: number): number {
  try {
    // fields after the command name: state is field 3; utime/stime are fields 14/15 (1-based)
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

function postgresPids(): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .map(Number)
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'postgres';
      } catch {
        return false;
      }
    });
}

/** CPU seconds used by `pid` and by all PostgreSQL processes between start() and the returned stop(). */
export function cpuMeter(pid: number): () => { process: number; postgres: number; self: number } {
  const sumPostgres = (): Map<number, number> => new Map(postgresPids().map((p) => [p, processCpuSeconds(p)]));
  const appBefore = processCpuSeconds(pid);
  const pgBefore = sumPostgres();
  const selfBefore = process.cpuUsage();
  return () => {
    const pgAfter = sumPostgres();
    let postgres = 0;
    for (const [p, seconds] of pgAfter) postgres += seconds - (pgBefore.get(p) ?? 0);
    const self = process.cpuUsage(selfBefore);
    return { process: processCpuSeconds(pid) - appBefore, postgres, self: (self.user + self.system) / 1e6 };
  };
}
