import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const SCRIPT = join(__dirname, '..', '..', 'scripts', 'build-if-stale.mjs');

/** What `npm start`'s pre-step decides for a project laid out under `root` (run in a real node, as npm runs it). */
function decision(root: string): string {
  const probe = `import(${JSON.stringify(SCRIPT)}).then((m) => process.stdout.write(String(m.buildNeeded(${JSON.stringify(root)}))))`;
  return execFileSync(process.execPath, ['-e', probe], { encoding: 'utf8' });
}

function write(path: string, secondsAgo: number): void {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, 'x');
  const at = new Date(Date.now() - secondsAgo * 1000);
  utimesSync(path, at, at);
}

describe('npm start builds only when a source is newer than the last build', () => {
  let root: string;

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'cim-build-'));
    write(join(root, 'src', 'deep', 'a.ts'), 60);
    write(join(root, 'client', 'demo.ts'), 60);
    write(join(root, 'package.json'), 60);
    for (const dir of [join(root, 'src', 'deep'), join(root, 'src'), join(root, 'client'), root])
      utimesSync(dir, new Date(Date.now() - 60_000), new Date(Date.now() - 60_000));
  });

  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('builds when there is no build yet, or a build that did not finish (no stamp)', () => {
    expect(decision(root)).toBe('no build yet');
    write(join(root, 'dist', 'main.js'), 10);
    expect(decision(root)).toBe('no build yet');
  });

  it('skips the build when the stamp is newer than every input', () => {
    write(join(root, 'dist', 'main.js'), 10);
    write(join(root, 'dist', '.build-stamp'), 10);
    expect(decision(root)).toBe('undefined');
  });

  it('builds when a source deep in src/ or client/ changed after the stamp', () => {
    write(join(root, 'dist', 'main.js'), 10);
    write(join(root, 'dist', '.build-stamp'), 10);
    write(join(root, 'src', 'deep', 'a.ts'), 1);
    expect(decision(root)).toBe('src changed since the last build');
    write(join(root, 'src', 'deep', 'a.ts'), 60);
    utimesSync(join(root, 'src', 'deep'), new Date(Date.now() - 60_000), new Date(Date.now() - 60_000));
    write(join(root, 'client', 'demo.ts'), 1);
    expect(decision(root)).toBe('client changed since the last build');
  });
});
