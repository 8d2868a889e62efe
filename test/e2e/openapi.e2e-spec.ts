import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { createTestApp, TestApp } from '../utils/create-test-app';

const ROOT = join(__dirname, '..', '..');

interface LintProblem {
  ruleId: string;
  severity: string;
  message: string;
  location: Array<{ pointer: string }>;
}

/** `redocly lint` with the repository's redocly.yaml (recommended ruleset); every problem it reports. */
async function lint(file: string): Promise<LintProblem[]> {
  const result = await promisify(execFile)(
    join(ROOT, 'node_modules/.bin/redocly'),
    ['lint', '--config', join(ROOT, 'redocly.yaml'), '--format', 'json', file],
    {
      cwd: ROOT,
      env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
    },
  ).catch((error: { stdout?: string }) => ({ stdout: error.stdout ?? '' }));
  return (JSON.parse(result.stdout) as { problems: LintProblem[] }).problems;
}

describe('OpenAPI document', () => {
  let sut: TestApp;
  let directory: string;

  beforeAll(async () => {
    sut = await createTestApp();
    directory = await mkdtemp(join(tmpdir(), 'cim-openapi-'));
  });

  afterAll(async () => {
    await sut.close();
    await rm(directory, { recursive: true, force: true });
  });

  const documentFile = async (): Promise<string> => {
    const file = join(directory, 'openapi.json');
    await writeFile(file, await (await fetch(`${sut.url}/docs/json`)).text());
    return file;
  };

  it('passes redocly lint (recommended rules) without errors or warnings', async () => {
    const problems = await lint(await documentFile());
    expect(problems.map((problem) => `${problem.severity} ${problem.ruleId} at ${problem.location[0]?.pointer}: ${problem.message}`)).toEqual([]);
  });

  it('is checked by the lint: an operation losing its summary and its 4XX responses is reported', async () => {
    const document = (await (await fetch(`${sut.url}/docs/json`)).json()) as { paths: Record<string, Record<string, Record<string, unknown>>> };
    const operation = document.paths['/inbox/read-all'].post;
    delete operation.summary;
    operation.responses = { 200: (operation.responses as Record<string, unknown>)['200'] };
    const file = join(directory, 'broken.json');
    await writeFile(file, JSON.stringify(document));
    expect((await lint(file)).map((problem) => problem.ruleId).sort()).toEqual(['operation-summary', 'rule/operation-4xx-response']);
  });
});
