import { Body, Controller, Get, HttpCode, NotFoundException, Param, Post, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';

import { DemoToken, DemoTokenRequestDto } from './demo.dto';
import { DemoAsset, DemoAssets } from './demo-assets';
import { DemoTokenService } from './demo-token.service';

// the page loads only its own files; message images may come from anywhere
const CONTENT_SECURITY_POLICY =
  "default-src 'self'; img-src * data:; connect-src 'self' ws: wss:; script-src 'self'; style-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

@ApiExcludeController()
@Controller('demo')
export class DemoController {
  constructor(
    private readonly assets: DemoAssets,
    private readonly tokens: DemoTokenService,
  ) {}

  @Get()
  page(@Res() reply: FastifyReply): Promise<void> {
    return this.send(reply, 'index.html');
  }

  /** Where the demo messages' call-to-action links land (after the click-tracking redirect). */
  @Get('landing')
  landing(@Res() reply: FastifyReply): Promise<void> {
    return this.send(reply, 'landing.html');
  }

  @Get('assets/:name')
  asset(@Param('name') name: string, @Res() reply: FastifyReply): Promise<void> {
    return this.send(reply, `assets/${name}`);
  }

  @Get(':name')
  file(@Param('name') name: string, @Res() reply: FastifyReply): Promise<void> {
    return this.send(reply, name);
  }

  /** Stands in for the operator's backend: a player token for any ext_user_id. */
  @Post('token')
  @HttpCode(200)
  token(@Body() request: DemoTokenRequestDto): Promise<DemoToken> {
    return this.tokens.mint(request.ext_user_id, request.expires_in, request.brand);
  }

  private async send(reply: FastifyReply, name: string): Promise<void> {
    const asset: DemoAsset | undefined = this.assets.get(name);
    if (asset === undefined) {
      throw new NotFoundException(this.assets.built ? 'not found' : 'the demo is not built: run `npm run build`');
    }
    await reply
      .header('content-type', asset.contentType)
      .header('cache-control', 'no-cache')
      .header('x-content-type-options', 'nosniff')
      .header('content-security-policy', CONTENT_SECURITY_POLICY)
      .send(asset.body);
  }
}
