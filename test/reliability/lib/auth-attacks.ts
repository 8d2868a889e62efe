import { io, Socket } from 'socket.io-client';

import { GATEWAY_A, GATEWAY_B, PLAYER_JWT_SECRET, SUPPORT_KEY } from '../../utils/create-test-app';
import { playerToken, unsignedToken } from '../../utils/player-tokens';

/** Tokens a player-facing route must refuse, each with why. `undefined` means no token at all. */
export async function forgedTokens(playerId: string, victimId: string): Promise<Array<[string, string | undefined]>> {
  const now = Math.floor(Date.now() / 1000);
  const valid = await playerToken(playerId);
  const [header, , signature] = valid.split('.');
  const encode = (value: object): string => Buffer.from(JSON.stringify(value)).toString('base64url');
  const { SignJWT } = await import('jose');
  const hs512 = await new SignJWT({ sub: playerId })
    .setProtectedHeader({ alg: 'HS512' })
    .setExpirationTime('1h')
    .sign(new TextEncoder().encode(PLAYER_JWT_SECRET));
  return [
    ['no token', undefined],
    ['an empty token', ''],
    ['garbage', 'not.a.jwt'],
    ['an expired token', await playerToken(playerId, { expiresIn: now - 60 })],
    ['alg none', unsignedToken(playerId)],
    ['alg none carrying a valid signature', `${encode({ alg: 'none', typ: 'JWT' })}.${valid.split('.')[1]}.${signature}`],
    ['a token signed with the wrong key', await playerToken(playerId, { secret: 'another-secret-that-is-at-least-32-bytes' })],
    ['HS512 with the right key (algorithm not allowed)', hs512],
    ["the player's signature on a payload naming the victim", `${header}.${encode({ sub: victimId, exp: now + 3600, iat: now })}.${signature}`],
    ['a token without sub', await playerToken(playerId, { withoutSub: true })],
    ['a token without exp', await playerToken(playerId, { withoutExp: true })],
    ['a token not valid before an hour from now', await playerToken(playerId, { claims: { nbf: now + 3600 } })],
    ['a numeric sub', await playerToken(playerId, { withoutSub: true, claims: { sub: 12345 } })],
    ['a 256-character sub', await playerToken('p'.repeat(256))],
    ['a gateway secret', GATEWAY_A.authorization],
    ['the support key', SUPPORT_KEY],
  ];
}

/** Authorization values that are not the gateway's secret but look like it: lengths, padding, case, bytes. */
export function forgedGatewaySecrets(): Array<[string, string | undefined]> {
  const secret = GATEWAY_A.authorization;
  const swapCase = [...secret].map((char) => (char === char.toLowerCase() ? char.toUpperCase() : char.toLowerCase())).join('');
  return [
    ['no Authorization', undefined],
    ['one character short', secret.slice(0, -1)],
    ['one character long', `${secret}0`],
    ['padded to 64 with zeros', secret.padEnd(64, '0')],
    ['padded with "="', `${secret}===`],
    ['padded with a no-break space (latin-1 byte 0xA0)', `${secret}\u00a0`],
    ['last character a latin-1 letter (same length in characters, longer in UTF-8)', `${secret.slice(0, -1)}é`],
    ['upper case', secret.toUpperCase()],
    ['lower case', secret.toLowerCase()],
    ['swapped case', swapCase],
    ['with a Bearer prefix', `Bearer ${secret}`],
    ['both gateways’ secrets joined', `${GATEWAY_A.authorization}${GATEWAY_B.authorization}`],
    ['the api_key instead of the secret', GATEWAY_A.apiKey],
    ['the support key', SUPPORT_KEY],
    ['8,000 characters', 'S'.repeat(8_000)],
    ['a single character', 'S'],
  ];
}

/** Authorization header values for the support API that are not a configured key. */
export async function forgedSupportAuthorizations(): Promise<Array<[string, string | undefined]>> {
  return [
    ['no Authorization', undefined],
    ['Bearer with nothing', 'Bearer '],
    ['the bare key without Bearer', SUPPORT_KEY],
    ['a wrong key', 'Bearer support-key-9999999999'],
    ['the key in upper case', `Bearer ${SUPPORT_KEY.toUpperCase()}`],
    ['the key one character short', `Bearer ${SUPPORT_KEY.slice(0, -1)}`],
    ['the key one character long', `Bearer ${SUPPORT_KEY}0`],
    ['the key padded with "="', `Bearer ${SUPPORT_KEY}==`],
    ['the key with a trailing word', `Bearer ${SUPPORT_KEY} x`],
    ['the key, last character latin-1', `Bearer ${SUPPORT_KEY.slice(0, -1)}é`],
    ['Basic credentials', `Basic ${Buffer.from(`support:${SUPPORT_KEY}`).toString('base64')}`],
    ['a player token', `Bearer ${await playerToken('player-a')}`],
    ['the gateway secret', `Bearer ${GATEWAY_A.authorization}`],
  ];
}

/** A raw socket.io client that records every event it is sent, in order. */
export class RecordingSocket {
  readonly events: Array<{ event: string; args: unknown[] }> = [];

  private constructor(readonly socket: Socket) {
    socket.onAny((event: string, ...args: unknown[]) => {
      this.events.push({ event, args: args.filter((arg) => typeof arg !== 'function') });
      const ack = args.find((arg) => typeof arg === 'function') as (() => void) | undefined;
      ack?.();
    });
  }

  static connect(url: string, options: { auth?: Record<string, unknown>; query?: Record<string, string>; namespace?: string }): Promise<RecordingSocket> {
    const socket = io(`${url}${options.namespace ?? '/inbox'}`, {
      auth: options.auth ?? {},
      query: options.query,
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
      timeout: 5_000,
    });
    const recording = new RecordingSocket(socket);
    return new Promise((resolve, reject) => {
      socket.once('connect', () => resolve(recording));
      socket.once('connect_error', (error) => {
        socket.close();
        reject(error);
      });
    });
  }

  close(): void {
    this.socket.close();
  }
}

/** The JSON log lines a child process wrote; pino's level 50 is error, 60 fatal. */
export function logLines(stdout: string): Array<Record<string, unknown>> {
  return stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => {
      try {
        return JSON.parse(line) as Record<string, unknown>;
      } catch {
        return { unparsable: line };
      }
    });
}
