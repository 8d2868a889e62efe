import { Controller, Get, Param, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';

import { ConsolePages } from './console-pages';

/** The support console (SPEC v2 §5): a static page with no secret in it; staff sign in with a support key, sent only to /support. */
@ApiExcludeController()
@Controller('console')
export class ConsoleController {
  constructor(private readonly pages: ConsolePages) {}

  @Get()
  page(@Res() reply: FastifyReply): Promise<void> {
    return this.pages.send(reply, 'index.html');
  }

  @Get(':name')
  file(@Param('name') name: string, @Res() reply: FastifyReply): Promise<void> {
    return this.pages.send(reply, name);
  }
}
