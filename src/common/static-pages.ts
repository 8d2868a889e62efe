import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';

import { Logger, NotFoundException } from '@nestjs/common';
import type { FastifyReply } from 'fastify';

/** One built file a page route may answer with. */
export interface StaticFile {
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

// dist/client from the compiled app (dist/common) and from the sources (src/common, under jest)
const CANDIDATE_DIRS = [join(__dirname, '..', 'client'), join(__dirname, '..', '..', 'dist', 'client')];

/** A page's strict policy: only its own scripts and styles (no inline code, no eval), images from anywhere (messages carry them). */
export function pageSecurityPolicy(connectSrc: string): string {
  return `default-src 'self'; img-src * data:; connect-src ${connectSrc}; script-src 'self'; style-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'`;
}

/**
 * The built files of a browser page (client/build.mjs → dist/client), read once at boot: a request can only name a file
 * in this table, so no path from a URL ever reaches the file system.
 */
export class StaticPages {
  private readonly logger = new Logger(StaticPages.name);
  private readonly files = new Map<string, StaticFile>();

  /** `page`: what the warning calls it; `dirs`: [folder under dist/client, the name prefix its files get]. */
  constructor(
    private readonly page: string,
    private readonly contentSecurityPolicy: string,
    private readonly dirs: ReadonlyArray<readonly [dir: string, prefix: string]>,
  ) {}

  load(): void {
    const root = CANDIDATE_DIRS.find((dir) => existsSync(join(dir, 'cim-inbox.js')));
    if (root === undefined) {
      this.logger.warn(`the ${this.page} is not built (dist/client is missing); run \`npm run build\``);
      return;
    }
    for (const [dir, prefix] of this.dirs) this.loadDir(join(root, dir), prefix);
  }

  get(name: string): StaticFile | undefined {
    return this.files.get(name);
  }

  /** Answers with the file `name`, or 404 (saying how to build when nothing was). */
  async send(reply: FastifyReply, name: string): Promise<void> {
    const file = this.files.get(name);
    if (file === undefined) throw new NotFoundException(this.files.size > 0 ? 'not found' : `the ${this.page} is not built: run \`npm run build\``);
    await reply
      .header('content-type', file.contentType)
      .header('cache-control', 'no-cache')
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'same-origin')
      .header('content-security-policy', this.contentSecurityPolicy)
      .send(file.body);
  }

  private loadDir(dir: string, prefix: string): void {
    if (!existsSync(dir)) return;
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      const contentType = CONTENT_TYPES[extname(name)];
      if (contentType === undefined || !statSync(path).isFile()) continue;
      this.files.set(`${prefix}${name}`, { body: readFileSync(path), contentType });
    }
  }
}
