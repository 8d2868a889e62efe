/**
 * A child Node.js process's V8 inspector (started with `--inspect=127.0.0.1:<port>`): forces a
 * garbage collection and reads process.memoryUsage(), so memory is compared on live objects only,
 * with no code in the app for it.
 */
import { WebSocket } from 'ws';

import { eventually } from './eventually';

export interface Memory {
  heapUsed: number;
  /** the V8 heap the process has committed (used or not) */
  heapTotal: number;
  /** memory outside the V8 heap that V8 knows of (Buffers and other external allocations) */
  external: number;
  rss: number;
}

export class Inspector {
  private constructor(private readonly socket: WebSocket) {}
  private nextId = 1;

  static async connect(port: number): Promise<Inspector> {
    const attach = async (): Promise<Inspector> => {
      const targets = (await (await fetch(`http://127.0.0.1:${port}/json/list`)).json()) as Array<{ webSocketDebuggerUrl: string }>;
      const socket = new WebSocket(targets[0].webSocketDebuggerUrl);
      await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
      return new Inspector(socket);
    };
    return eventually(attach, { what: `the inspector on port ${port}`, timeoutMs: 10_000, everyMs: 100 });
  }

  private call<T>(method: string, params: Record<string, unknown> = {}): Promise<T> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const onMessage = (data: Buffer): void => {
        const reply = JSON.parse(data.toString()) as { id?: number; result?: T; error?: unknown };
        if (reply.id !== id) return;
        this.socket.off('message', onMessage);
        if (reply.error) reject(new Error(JSON.stringify(reply.error)));
        else resolve(reply.result as T);
      };
      this.socket.on('message', onMessage);
      this.socket.send(JSON.stringify({ id, method, params }));
    });
  }

  async memoryAfterGc(): Promise<Memory> {
    await this.call('HeapProfiler.collectGarbage');
    await this.call('HeapProfiler.collectGarbage');
    const result = await this.call<{ result: { value: string } }>('Runtime.evaluate', {
      expression: 'JSON.stringify(process.memoryUsage())',
      returnByValue: true,
    });
    const usage = JSON.parse(result.result.value) as Memory;
    return { heapUsed: usage.heapUsed, heapTotal: usage.heapTotal, external: usage.external, rss: usage.rss };
  }

  close(): void {
    this.socket.close();
  }
}
