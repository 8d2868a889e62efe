import { Injectable } from '@nestjs/common';
import { ThrottlerGuard } from '@nestjs/throttler';

/** Requests carry who is calling once the auth guard has run: a player, or a support key's index. */
interface IdentifiedRequest {
  player?: { id: string };
  supportKeyIndex?: number;
  ip?: string;
}

/**
 * Rate limits per caller rather than per address: a player (many players share one NAT) or a
 * support key. Runs after the auth guard of its controller.
 */
@Injectable()
export class ClientThrottlerGuard extends ThrottlerGuard {
  protected override getTracker(req: Record<string, unknown>): Promise<string> {
    return Promise.resolve(trackerOf(req as IdentifiedRequest));
  }
}

function trackerOf(request: IdentifiedRequest): string {
  if (request.player !== undefined) return `player:${request.player.id}`;
  if (request.supportKeyIndex !== undefined) return `support-key:${request.supportKeyIndex}`;
  return `ip:${request.ip ?? 'unknown'}`;
}
