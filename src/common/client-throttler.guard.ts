import { Injectable } from '@nestjs/common';
import { ThrottlerGuard } from '@nestjs/throttler';

/** Requests carry who is calling once the auth guard has run: a player, or a support or operator key's index. */
interface IdentifiedRequest {
  player?: { brand: string; id: string };
  supportKeyIndex?: number;
  operatorKeyIndex?: number;
  ip?: string;
}

/** Per caller, not per address (players share NATs); runs after its controller's auth guard. */
@Injectable()
export class ClientThrottlerGuard extends ThrottlerGuard {
  protected override getTracker(req: Record<string, unknown>): Promise<string> {
    return Promise.resolve(trackerOf(req as IdentifiedRequest));
  }
}

function trackerOf(request: IdentifiedRequest): string {
  if (request.player !== undefined) return `player:${request.player.brand}:${request.player.id}`;
  if (request.supportKeyIndex !== undefined) return `support-key:${request.supportKeyIndex}`;
  if (request.operatorKeyIndex !== undefined) return `operator-key:${request.operatorKeyIndex}`;
  return `ip:${request.ip ?? 'unknown'}`;
}
