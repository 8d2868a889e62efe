// Bundles the browser SDK and the demo page into dist/client (run by `npm run build`, after tsc
// has emitted the SDK's declarations there). The demo imports the SDK bundle at run time, exactly
// as an operator's page would, instead of carrying its own copy.
import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { build } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, '..', 'dist', 'client');
const shared = {
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2020',
  minify: true,
  sourcemap: 'linked',
  legalComments: 'eof',
  logLevel: 'warning',
};

const sdkAsExternal = {
  name: 'sdk-as-external',
  setup(builder) {
    builder.onResolve({ filter: /\/src\/cim-inbox$/ }, () => ({ path: './cim-inbox.js', external: true }));
  },
};

mkdirSync(join(out, 'demo'), { recursive: true });
await Promise.all([
  build({ ...shared, entryPoints: [join(here, 'src', 'cim-inbox.ts')], outfile: join(out, 'cim-inbox.js') }),
  build({ ...shared, entryPoints: [join(here, 'demo', 'demo.ts')], outfile: join(out, 'demo', 'demo.js'), plugins: [sdkAsExternal] }),
  build({
    ...shared,
    bundle: false,
    entryPoints: [join(here, 'demo', 'demo.css')],
    outfile: join(out, 'demo', 'demo.css'),
    format: undefined,
    sourcemap: false,
  }),
]);
for (const page of ['index.html', 'landing.html']) cpSync(join(here, 'demo', page), join(out, 'demo', page));
cpSync(join(here, 'demo', 'assets'), join(out, 'demo', 'assets'), { recursive: true });
// the whole build succeeded: `npm start` (scripts/build-if-stale.mjs) skips building until a source is newer
writeFileSync(join(out, '..', '.build-stamp'), `${new Date().toISOString()}\n`);
