import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

import type { AppProcess } from '../../utils/app-process';

/** A sender killed while others kept running, and how to tell its connections apart (`Ledger.noteCrash`). */
export interface KilledSender {
  /** when it was stopped: it sent nothing after */
  at: number;
  /** by receiver port, the local ports of its connections to that receiver */
  portsTo: ReadonlyMap<number, ReadonlySet<number>>;
}

/**
 * `kill -9` of `app`, noting first which of its connections go to `receiverPorts`: it is stopped
 * (SIGSTOP) while they are read, so it opens and sends nothing meanwhile, and to its peers the stop
 * and the kill are one moment.
 */
export function killSender(app: AppProcess, receiverPorts: number[]): KilledSender {
  app.kill('SIGSTOP');
  const at = Date.now();
  const portsTo = new Map(receiverPorts.map((port) => [port, tcpPortsTo(app.pid, port)]));
  app.kill('SIGKILL');
  return { at, portsTo };
}

/** The local ports of the TCP connections process `pid` holds to `remotePort` on this host, read from /proc (Linux). */
export function tcpPortsTo(pid: number, remotePort: number): Set<number> {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const socket = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (socket) inodes.add(socket[1]);
    } catch {
      // an fd listed and gone before it was read
    }
  }
  const ports = new Set<number>();
  for (const table of ['tcp', 'tcp6']) {
    // columns: sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode …; addresses are hex ip:port
    for (const line of readFileSync(`/proc/${pid}/net/${table}`, 'utf8').split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (fields.length < 10 || !inodes.has(fields[9])) continue;
      if (portOf(fields[2]) === remotePort) ports.add(portOf(fields[1]));
    }
  }
  return ports;
}

function portOf(address: string): number {
  return parseInt(address.slice(address.lastIndexOf(':') + 1), 16);
}
