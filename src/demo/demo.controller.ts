import { Body, Controller, Get, HttpCode, Param, Post, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';

import { DemoToken, DemoTokenRequestDto } from './demo.dto';
import { DemoAssets } from './demo-assets';
import { DemoTokenService } from './demo-token.service';

@ApiExcludeController()
@Controller('demo')
export class DemoController {
  constructor(
    private readonly assets: DemoAssets,
    private readonly tokens: DemoTokenService,
  ) {}

  @Get()
  page(@Res() reply: FastifyReply): Promise<void> {
    return this.assets.send(reply, 'index.html');
  }

  /** Where the demo messages' call-to-action links land (after the click-tracking redirect). */
  @Get('landing')
  landing(@Res() reply: FastifyReply): Promise<void> {
    return this.assets.send(reply, 'landing.html');
  }

  @Get('assets/:name')
  asset(@Param('name') name: string, @Res() reply: FastifyReply): Promise<void> {
    return this.assets.send(reply, `assets/${name}`);
  }

  @Get(':name')
  file(@Param('name') name: string, @Res() reply: FastifyReply): Promise<void> {
    return this.assets.send(reply, name);
  }

  /** Stands in for the operator's backend: a player token for any ext_user_id. */
  @Post('token')
  @HttpCode(200)
  token(@Body() request: DemoTokenRequestDto): Promise<DemoToken> {
    return this.tokens.mint(request.ext_user_id, request.expires_in, request.brand);
  }
}
