/**
 * Catch-up: a player is offline while 100 messages arrive (posted one after another, so their order
 * is defined), then connects; the time from opening the socket to the 100th message is measured,
 * and the order checked. Repeated with a fresh player each time.
 */
import { PAYLOAD_BODY } from '../lib/ingest-load';
import { BENCH_SECRETS, startCim } from '../lib/servers';
import { closeAll, connectPlayers } from '../lib/sockets';
import { summarize, Summary } from '../lib/stats';
import { BenchContext } from './context';

export interface CatchUpResult {
  messages: number;
  repetitions: number;
  allInOrder: boolean;
  missing: number;
  connectToAll: Summary;
}

export async function catchUpScenario(context: BenchContext): Promise<CatchUpResult> {
  const messages = 100;
  const repetitions = context.quick ? 10 : 50;
  const cim = await startCim(await context.server.createDatabase('catchup'));
  const times: number[] = [];
  let allInOrder = true;
  let missing = 0;
  try {
    for (let repetition = 0; repetition < repetitions; repetition += 1) {
      const player = `catchup-${Date.now().toString(36)}-${repetition}`;
      const posted: string[] = [];
      for (let i = 0; i < messages; i += 1) {
        const imUid = `${player}-${i}`;
        const response = await fetch(`${cim.url}/gateway/custom-im`, {
          method: 'POST',
          headers: { authorization: BENCH_SECRETS.authorization, 'content-type': 'application/json' },
          body: JSON.stringify({ ext_user_id: player, body: PAYLOAD_BODY, im_uid: imUid, callback_url: context.callbackUrl, extension: { title: `#${i}` } }),
        });
        const reply = (await response.json()) as { error_code: number };
        if (reply.error_code !== 0) throw new Error(`gateway refused a catch-up message: ${JSON.stringify(reply)}`);
        posted.push(imUid);
      }
      const received: string[] = [];
      let done!: () => void;
      const all = new Promise<void>((resolve) => (done = resolve));
      const started = performance.now();
      let finished = 0;
      const sockets = await connectPlayers({
        target: 'cim',
        url: cim.url,
        players: [player],
        onMessage: (_player, message) => {
          received.push(message.im_uid!);
          if (received.length === messages) {
            finished = performance.now();
            done();
          }
        },
      });
      await Promise.race([all, new Promise((resolve) => setTimeout(resolve, 10_000))]);
      closeAll(sockets);
      if (finished === 0) missing += messages - received.length;
      else times.push(finished - started);
      if (received.join() !== posted.join()) allInOrder = false;
    }
  } finally {
    await cim.stop();
  }
  return { messages, repetitions, allInOrder, missing, connectToAll: summarize(times) };
}
