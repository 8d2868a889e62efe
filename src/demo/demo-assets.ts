import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';

import { Injectable, Logger, OnModuleInit } from '@nestjs/common';

export interface DemoAsset {
  body: Buffer;
  contentType: string;
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.ts': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

// dist/client from the compiled app (dist/demo) and from the sources (src/demo, under jest)
const CANDIDATE_DIRS = [join(__dirname, '..', 'client'), join(__dirname, '..', '..', 'dist', 'client')];

/** Read once at boot: a request can only name a file in this table. */
@Injectable()
export class DemoAssets implements OnModuleInit {
  private readonly logger = new Logger(DemoAssets.name);
  private readonly files = new Map<string, DemoAsset>();

  onModuleInit(): void {
    const root = CANDIDATE_DIRS.find((dir) => existsSync(join(dir, 'cim-inbox.js')));
    if (root === undefined) {
      this.logger.warn('the demo page and SDK bundle are not built (dist/client is missing); run `npm run build`');
      return;
    }
    // the SDK bundle and its declarations sit beside the demo's own files under /demo/
    this.load(root, '');
    this.load(join(root, 'demo'), '');
    this.load(join(root, 'demo', 'assets'), 'assets/');
  }

  get(name: string): DemoAsset | undefined {
    return this.files.get(name);
  }

  get built(): boolean {
    return this.files.size > 0;
  }

  private load(dir: string, prefix: string): void {
    if (!existsSync(dir)) return;
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      const contentType = CONTENT_TYPES[extname(name)];
      if (contentType === undefined || !statSync(path).isFile()) continue;
      this.files.set(`${prefix}${name}`, { body: readFileSync(path), contentType });
    }
  }
}
