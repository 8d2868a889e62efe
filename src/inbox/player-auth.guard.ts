import { CanActivate, createParamDecorator, ExecutionContext, Injectable, UnauthorizedException } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';

import { Player, PlayerAuthService } from './player-auth.service';

type PlayerRequest = FastifyRequest & { player?: Player };

/** REST side of player authentication: `Authorization: Bearer <player JWT>`. */
@Injectable()
export class PlayerAuthGuard implements CanActivate {
  constructor(private readonly auth: PlayerAuthService) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<PlayerRequest>();
    const match = /^Bearer ([^\s]+)$/.exec(request.headers.authorization ?? '');
    try {
      request.player = await this.auth.verify(match?.[1]);
      return true;
    } catch {
      throw new UnauthorizedException('a valid player token is required');
    }
  }
}

/** The authenticated player of this request (after PlayerAuthGuard). */
export const CurrentPlayer = createParamDecorator((_data: unknown, context: ExecutionContext): Player => {
  return context.switchToHttp().getRequest<PlayerRequest>().player!;
});
