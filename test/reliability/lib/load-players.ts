import { GATEWAY_A } from '../../utils/create-test-app';
import { customIm } from '../../utils/gateway-client';
import { playerToken } from '../../utils/player-tokens';
import { SocketPlayer } from '../../utils/socket-player';
import type { Ledger } from './ledger';

/** Connects `count` real socket.io clients (websocket only), `parallel` at a time, each acking what it gets. */
export async function connectPlayers(url: string, ids: string[], parallel = 50): Promise<Map<string, SocketPlayer>> {
  const players = new Map<string, SocketPlayer>();
  for (let start = 0; start < ids.length; start += parallel) {
    const batch = ids.slice(start, start + parallel);
    const connected = await Promise.all(batch.map(async (id) => [id, await SocketPlayer.connect(url, await playerToken(id))] as const));
    for (const [id, player] of connected) players.set(id, player);
  }
  return players;
}

export interface LoadResult {
  requests: number;
  accepted: number;
  /** replies that were not HTTP 200 with a JSON body, or did not even come */
  broken: Array<{ status: number | null; text: string }>;
  /** refusals (error_code > 0) by code */
  refused: Map<number, number>;
  /** accepted message ids by player */
  expected: Map<string, Set<string>>;
  latenciesMs: number[];
  durationMs: number;
}

/** `posters` concurrent loops posting Custom IMs to random players for `durationMs`; every reply is recorded in `ledger`. */
export async function runPosters(
  url: string,
  playerIds: string[],
  posters: number,
  durationMs: number,
  callbackUrl: string,
  ledger: Ledger,
): Promise<LoadResult> {
  const result: LoadResult = { requests: 0, accepted: 0, broken: [], refused: new Map(), expected: new Map(), latenciesMs: [], durationMs };
  const started = Date.now();
  const deadline = started + durationMs;
  const poster = async (): Promise<void> => {
    while (Date.now() < deadline) {
      const player = playerIds[Math.floor(Math.random() * playerIds.length)];
      const sent = performance.now();
      result.requests++;
      let status: number | null = null;
      let text = '';
      const request = customIm({ ext_user_id: player, callback_url: callbackUrl });
      try {
        const response = await fetch(`${url}/gateway/custom-im`, {
          method: 'POST',
          headers: { authorization: GATEWAY_A.authorization, 'content-type': 'application/json' },
          body: JSON.stringify(request),
        });
        status = response.status;
        text = await response.text();
        const json = JSON.parse(text) as { error_code: number; ext_message_id?: string };
        if (status !== 200 || !/^application\/json/.test(response.headers.get('content-type') ?? '')) throw new Error('not 200 JSON');
        result.latenciesMs.push(performance.now() - sent);
        ledger.recordReply({ gatewayId: GATEWAY_A.id, im_uid: request.im_uid, ext_user_id: player }, json);
        if (json.error_code === 0) {
          result.accepted++;
          const ids = result.expected.get(player) ?? new Set<string>();
          ids.add(String(json.ext_message_id));
          result.expected.set(player, ids);
        } else {
          result.refused.set(json.error_code, (result.refused.get(json.error_code) ?? 0) + 1);
        }
      } catch (error) {
        result.broken.push({ status, text: `${text.slice(0, 200)} ${(error as Error).message}` });
      }
    }
  };
  await Promise.all(Array.from({ length: posters }, poster));
  result.durationMs = Date.now() - started;
  return result;
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}
