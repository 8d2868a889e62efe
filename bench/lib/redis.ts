import { createClient } from 'redis';

/** Whether a Redis answers PING at `url` within a second (the multi-instance scenario skips its Redis half otherwise). */
export async function redisAnswers(url: string): Promise<boolean> {
  const client = createClient({ url, socket: { connectTimeout: 1_000, reconnectStrategy: false } });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    if (client.isOpen) await client.quit();
  }
}
