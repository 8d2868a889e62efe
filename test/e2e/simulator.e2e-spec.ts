import { spawn } from 'node:child_process';
import { join } from 'node:path';

import { freePort } from '../utils/free-port';

const ROOT = join(__dirname, '..', '..');

describe('npm run simulate', () => {
  it('with no server to post to, says where it looked and exits 1 instead of waiting for callbacks', async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    const child = spawn(
      join(ROOT, 'node_modules', '.bin', 'tsx'),
      [join(ROOT, 'scripts', 'simulate.ts'), '--user', 'p', '--url', url, '--authorization', 'x'],
      {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).toBe(1);
    expect(output).toContain(`no answer from cim-inbox at ${url}: is it running (npm start)?`);
    expect(output).toContain('1 posted, 0 accepted, 1 refused');
  });
});
