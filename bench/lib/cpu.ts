import { readdirSync, readFileSync } from 'node:fs';

const TICKS_PER_SECOND = 100;

function processCpuSeconds(pid: number, withExitedChildren = false): number {
  try {
    // fields after the command name: state is field 3; utime/stime are fields 14/15 (1-based), and
    // cutime/cstime (16/17) what its children used before they exited and were waited for
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const children = withExitedChildren ? Number(fields[13]) + Number(fields[14]) : 0;
    return (Number(fields[11]) + Number(fields[12]) + children) / TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

function parentOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return 0;
  }
}

/** The bench's PostgreSQL: its postmaster (first line of postmaster.pid) and the backends it forked. */
function postgresPids(postmaster: number | undefined): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .map(Number)
    .filter((pid) => {
      try {
        if (readFileSync(`/proc/${pid}/comm`, 'utf8').trim() !== 'postgres') return false;
        return postmaster === undefined || pid === postmaster || parentOf(pid) === postmaster;
      } catch {
        return false;
      }
    });
}

let postmasterPid: number | undefined;

/** Counts only this PostgreSQL's processes from now on (others on the machine are not ours). */
export function setPostmaster(dataDirectory: string): void {
  try {
    postmasterPid = Number(readFileSync(`${dataDirectory}/postmaster.pid`, 'utf8').split('\n')[0]);
  } catch {
    postmasterPid = undefined;
  }
}

/** CPU seconds used by `pid` and by the bench's PostgreSQL between start() and the returned stop(). */
export function cpuMeter(pid: number): () => { process: number; postgres: number; self: number } {
  // the postmaster's count includes backends that exited meanwhile (a baseline's closed connections)
  const sumPostgres = (): Map<number, number> => new Map(postgresPids(postmasterPid).map((p) => [p, processCpuSeconds(p, p === postmasterPid)]));
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
