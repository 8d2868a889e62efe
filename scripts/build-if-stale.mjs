// `npm start`'s pre-step: builds (`npm run build`) only when dist/ is missing or older than a source,
// so a second start with nothing changed starts at once instead of compiling for ~13 s.
// The stamp (dist/.build-stamp) is written by client/build.mjs, the last step of a build that succeeded;
// a failed build leaves none, so the next start builds again.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const projectRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
// everything `npm run build` reads
const inputs = ['src', 'client', 'package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json'];

/** The newest modification time under a file or directory, in ms (0 when absent). */
function newest(path) {
  if (!existsSync(path)) return 0;
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let latest = stat.mtimeMs; // a deleted file changes its directory's time
  for (const entry of readdirSync(path)) latest = Math.max(latest, newest(join(path, entry)));
  return latest;
}

/** Why `root` needs a build, or undefined when dist/ is newer than every input. */
export function buildNeeded(root) {
  const stamp = join(root, 'dist', '.build-stamp');
  if (!existsSync(stamp) || !existsSync(join(root, 'dist', 'main.js'))) return 'no build yet';
  const built = statSync(stamp).mtimeMs;
  const changed = inputs.find((input) => newest(join(root, input)) > built);
  return changed ? `${changed} changed since the last build` : undefined;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const reason = buildNeeded(projectRoot);
  if (reason === undefined) {
    console.log('build is up to date (npm run build forces one)');
  } else {
    console.log(`building: ${reason}`);
    try {
      execFileSync('npm', ['run', 'build'], { cwd: projectRoot, stdio: 'inherit' });
    } catch (error) {
      process.exit(error.status ?? 1); // the compiler has said why
    }
  }
}
