/**
 * Player sockets for the benchmarks: socket.io-client over WebSocket only, connected in waves so a
 * swarm of thousands does not arrive as one SYN flood. Each message is acked as the SDK acks it.
 */
import { io, Socket } from 'socket.io-client';

import { BENCH_SECRETS } from './servers';

export type Target = 'cim' | 'b2';

export interface PlayerSocket {
  player: string;
  socket: Socket;
}

let signingKey: Uint8Array | undefined;

export async function playerToken(player: string): Promise<string> {
  const { SignJWT } = await import('jose');
  signingKey ??= new TextEncoder().encode(BENCH_SECRETS.playerJwtSecret);
  return new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject(player).setExpirationTime('3h').sign(signingKey);
}

export interface ConnectOptions {
  target: Target;
  url: string;
  players: string[];
  onMessage?: (player: string, message: { im_uid?: string; id?: string }) => void;
  /** sockets opened at once */
  wave?: number;
}

/** Connects one socket per player; resolves once every one has had its first `unread` (catch-up done). */
export async function connectPlayers(options: ConnectOptions): Promise<PlayerSocket[]> {
  const wave = options.wave ?? 500;
  const connected: PlayerSocket[] = [];
  for (let start = 0; start < options.players.length; start += wave) {
    const batch = options.players.slice(start, start + wave);
    connected.push(...(await Promise.all(batch.map((player) => connectPlayer(options, player)))));
  }
  return connected;
}

/** One socket; resolves once it has had its first `unread` (catch-up done). */
export async function connectPlayer(options: Omit<ConnectOptions, 'players' | 'wave'>, player: string): Promise<PlayerSocket> {
  const auth = options.target === 'cim' ? { token: await playerToken(player) } : { user: player };
  const socket = io(`${options.url}/inbox`, { auth, transports: ['websocket'], reconnection: false, forceNew: true, timeout: 60_000 });
  socket.on('message', (message: { im_uid?: string }, ack?: () => void) => {
    options.onMessage?.(player, message);
    if (typeof ack === 'function') ack();
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('unread', () => resolve());
    socket.once('connect_error', (error) => reject(new Error(`${player}: ${error.message}`)));
  });
  return { player, socket };
}

export function closeAll(sockets: PlayerSocket[]): void {
  for (const { socket } of sockets) socket.close();
}
