import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { expect } from '@jest/globals';

import { AppProcess } from '../utils/app-process';
import { freePort } from '../utils/free-port';
import { customIm, postGateway } from '../utils/gateway-client';

const run = promisify(execFile);

describe('the built app as `npm start` runs it', () => {
  it.each([
    [{ CIM_GATEWAYS: '[{"id":' }, 'CIM_GATEWAYS is not valid JSON'],
    [
      { CIM_GATEWAYS: '[{"id":"a","authorization":"secret-a","apiKey":"k","brand":"alpha"}]', CIM_BRANDS: '[{"id":"beta"}]' },
      'CIM_BRANDS is invalid at [0].[id]: no gateway in CIM_GATEWAYS has brand "beta"',
    ],
  ])('stops at boot on invalid configuration with one line naming the variable (%j)', async (env, message) => {
    const app = new AppProcess({ ...env, PORT: String(await freePort()) });
    const { code } = await app.exited;
    expect(code).toBe(78);
    expect(app.stderr.trim().split('\n')).toEqual([`cim-inbox: configuration error: ${message}`]);
  });

  it('checks the configuration without starting when run with --check-config: 78 and the reason, or 0', async () => {
    const main = join(__dirname, '..', '..', 'dist', 'main.js');
    const bad = run(process.execPath, [main, '--check-config'], { env: { ...process.env, DATABASE_URL: '', CIM_GATEWAYS: '[{"id":' } });
    await expect(bad).rejects.toMatchObject({ code: 78, stderr: 'cim-inbox: configuration error: CIM_GATEWAYS is not valid JSON\n' });
    const gateways = '[{"id":"a","authorization":"secret-a","apiKey":"k"},{"id":"b","authorization":"secret-b","apiKey":"k"}]';
    const good = await run(process.execPath, [main, '--check-config'], {
      env: { ...process.env, DATABASE_URL: 'postgres://nowhere.invalid/cim', CIM_GATEWAYS: gateways },
    });
    expect(good.stdout).toBe('cim-inbox: configuration is valid (2 gateway(s))\n');
  });

  describe('with no DATABASE_URL and no gateway (dev mode on embedded PostgreSQL)', () => {
    let dataDir: string;

    beforeAll(() => {
      dataDir = mkdtempSync(join(tmpdir(), 'cim-embedded-'));
      chmodSync(dataDir, 0o755);
    });

    afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

    it('serves, prints a curl that works as pasted, stops cleanly on SIGTERM and keeps the messages across a restart', async () => {
      const port = await freePort();
      const env = { DATA_DIR: dataDir, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn' };

      const first = new AppProcess(env);
      await first.waitFor('curl -s -X POST');
      const curl = /^\s*(curl -s -X POST .*)$/m.exec(first.stdout)![1];
      expect(curl).toContain(`http://127.0.0.1:${port}/gateway/custom-im`);
      const { stdout } = await run('bash', ['-c', curl]);
      const accepted = JSON.parse(stdout) as unknown;
      expect(accepted).toEqual({ error_code: 0, ext_message_id: expect.stringMatching(/^[0-9a-f-]{36}$/) });

      const authorization = /Authorization\s+(\S+)/.exec(first.stdout)![1];
      const message = customIm({ callback_url: `http://127.0.0.1:${port}/dev/callback` });
      const stored = await postGateway(`http://127.0.0.1:${port}`, message, { authorization });
      expect(stored.json.error_code).toBe(0);

      first.kill('SIGTERM');
      const stopped = await first.exited;
      expect(stopped.code).toBe(0);
      expect(existsSync(join(dataDir, 'pg', 'postmaster.pid'))).toBe(false); // embedded server stopped too

      const second = new AppProcess(env);
      await second.waitFor('curl -s -X POST');
      // same secrets after the restart, and the stored message is still there: its replay answers the same id
      expect(/Authorization\s+(\S+)/.exec(second.stdout)![1]).toBe(authorization);
      const replay = await postGateway(`http://127.0.0.1:${port}`, message, { authorization });
      expect(replay.json).toEqual({ error_code: 0, ext_message_id: stored.json.ext_message_id });
      second.kill('SIGTERM');
      expect((await second.exited).code).toBe(0);
    });
  });
});
