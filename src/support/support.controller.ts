import { Controller, Get, HttpCode, NotFoundException, Param, Post, Query, UseGuards } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiTooManyRequestsResponse,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { SkipThrottle } from '@nestjs/throttler';

import { ClientThrottlerGuard } from '../common/client-throttler.guard';
import { MessageIdParam } from '../common/message-id.param';
import {
  RetryCallbacksDto,
  SupportMessageDetailDto,
  SupportMessageListDto,
  SupportPlayerDto,
  SupportPlayerParamsDto,
  SupportSearchQueryDto,
  toSupportSearch,
} from './support.dto';
import { SupportMessageDetail, SupportMessageList, SupportPlayer, SupportService } from './support.service';
import { SupportAuthGuard } from './support-auth.guard';

@ApiTags('support')
@ApiBearerAuth('support')
@ApiUnauthorizedResponse({ description: 'missing or unknown support API key' })
@ApiTooManyRequestsResponse({ description: 'over SUPPORT_RATE_LIMIT_PER_MIN requests a minute for this key' })
@SkipThrottle({ player: true })
@UseGuards(SupportAuthGuard, ClientThrottlerGuard)
@Controller('support')
export class SupportController {
  constructor(private readonly support: SupportService) {}

  @Get('messages')
  @ApiOperation({ summary: 'Search every message, newest first; filters combine (AND)' })
  @ApiOkResponse({ type: SupportMessageListDto })
  @ApiBadRequestResponse({ description: 'a filter is malformed (the message names it), the cursor is not ours, or from is after to' })
  search(@Query() query: SupportSearchQueryDto): Promise<SupportMessageList> {
    return this.support.search(toSupportSearch(query));
  }

  @Get('messages/:id')
  @ApiOperation({ summary: 'One message with its timeline, every callback attempt and the callbacks’ current state' })
  @ApiOkResponse({ type: SupportMessageDetailDto })
  @ApiBadRequestResponse({ description: 'id is not a uuid' })
  @ApiNotFoundResponse({ description: 'no such message' })
  async message(@MessageIdParam() id: string): Promise<SupportMessageDetail> {
    return found(await this.support.message(id));
  }

  @Get('players/:ext_user_id')
  @ApiOperation({ summary: "A player's newest messages, unread count, last seen online and whether a socket is open now" })
  @ApiOkResponse({ type: SupportPlayerDto })
  @ApiBadRequestResponse({ description: 'ext_user_id is over 255 characters' })
  player(@Param() params: SupportPlayerParamsDto): Promise<SupportPlayer> {
    return this.support.player(params.ext_user_id);
  }

  @Post('messages/:id/callbacks/retry')
  @HttpCode(200)
  @ApiOperation({ summary: "Re-queues the message's dead status callbacks with a fresh retry window" })
  @ApiOkResponse({ type: RetryCallbacksDto })
  @ApiBadRequestResponse({ description: 'id is not a uuid' })
  @ApiNotFoundResponse({ description: 'no such message' })
  async retryCallbacks(@MessageIdParam() id: string): Promise<RetryCallbacksDto> {
    return { requeued: found(await this.support.retryCallbacks(id)) };
  }
}

function found<T>(value: T | null): T {
  if (value === null) throw new NotFoundException('message not found');
  return value;
}
