import { Controller, Get, Header, NotFoundException, Param, Res } from '@nestjs/common';
import { ApiFoundResponse, ApiNotFoundResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';

import { TrackingService } from './tracking.service';

@ApiTags('tracking')
@Controller('t')
export class ClickLinkController {
  constructor(private readonly tracking: TrackingService) {}

  @Get(':token')
  @Header('Cache-Control', 'no-store')
  @Header('Referrer-Policy', 'no-referrer')
  @ApiOperation({ summary: "Click-tracking redirect for a message's cta_url: records clicked, then 302 to the target", security: [] })
  @ApiFoundResponse({ description: 'redirect to the call-to-action target' })
  @ApiNotFoundResponse({ description: 'tampered or unknown link' })
  async follow(@Param('token') token: string, @Res() reply: FastifyReply): Promise<void> {
    const target = await this.tracking.recordClick(token);
    if (target === null) throw new NotFoundException('link not found');
    await reply.redirect(target, 302);
  }
}
