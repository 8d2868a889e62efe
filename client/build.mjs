// Bundles the browser SDK, the demo page and the support console into dist/client (run by `npm run build`,
// after tsc has emitted the SDK's declarations there). The demo imports the SDK bundle at run time, exactly
// as an operator's page would, instead of carrying its own copy; the console needs no SDK.
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

const stylesheet = (page) => ({
  ...shared,
  bundle: false,
  entryPoints: [join(here, page, `${page}.css`)],
  outfile: join(out, page, `${page}.css`),
  format: undefined,
  sourcemap: false,
});

for (const page of ['demo', 'console']) mkdirSync(join(out, page), { recursive: true });
await Promise.all([
  build({ ...shared, entryPoints: [join(here, 'src', 'cim-inbox.ts')], outfile: join(out, 'cim-inbox.js') }),
  build({ ...shared, entryPoints: [join(here, 'demo', 'demo.ts')], outfile: join(out, 'demo', 'demo.js'), plugins: [sdkAsExternal] }),
  build(stylesheet('demo')),
  build({ ...shared, entryPoints: [join(here, 'console', 'console.ts')], outfile: join(out, 'console', 'console.js') }),
  build(stylesheet('console')),
]);
for (const page of ['index.html', 'landing.html']) cpSync(join(here, 'demo', page), join(out, 'demo', page));
cpSync(join(here, 'demo', 'assets'), join(out, 'demo', 'assets'), { recursive: true });
cpSync(join(here, 'console', 'index.html'), join(out, 'console', 'index.html'));
cpSync(join(here, 'demo', 'assets', 'favicon.svg'), join(out, 'console', 'favicon.svg'));
// the whole build succeeded: `npm start` (scripts/build-if-stale.mjs) skips building until a source is newer
writeFileSync(join(out, '..', '.build-stamp'), `${new Date().toISOString()}\n`);
