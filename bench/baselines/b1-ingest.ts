/**
 * Baseline B1: the least a durable ingest endpoint can do on this stack — bare Fastify and a `pg`
 * pool (same size as the app's), one INSERT per POST, reply after the commit. No auth, no
 * validation, no push: what cim-inbox's gateway is measured against.
 *   PORT=… DATABASE_URL=… POOL_SIZE=20 node --import tsx bench/baselines/b1-ingest.ts
 */
import Fastify from 'fastify';

import { b1Store, CustomIm } from './b1-store';

async function main(): Promise<void> {
  const store = await b1Store();
  const app = Fastify({ logger: false });
  app.post('/ingest', async (request) => ({ error_code: 0, ext_message_id: await store.insert(request.body as CustomIm) }));
  await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' });
  process.stdout.write('b1 ready\n');
  process.on(
    'SIGTERM',
    () =>
      void app
        .close()
        .then(() => store.end())
        .then(() => process.exit(0)),
  );
}

void main();
