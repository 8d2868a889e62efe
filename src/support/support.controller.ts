import { Controller, Get, HttpCode, Inject, NotFoundException, Param, Post, Query, Req, UseGuards } from '@nestjs/common';
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
import { RequestValidationError } from '../common/request-validation.error';
import { APP_CONFIG, AppConfig, brandIdsOf } from '../config/app.config';
import { chooseBrand, searchBrand } from '../config/brand-scope';
import {
  RetryCallbacksDto,
  SupportMessageDetailDto,
  SupportMessageListDto,
  SupportPlayerDto,
  SupportPlayerParamsDto,
  SupportPlayerQueryDto,
  SupportSearchQueryDto,
  toSupportSearch,
} from './support.dto';
import { SupportMessageDetail, SupportMessageList, SupportPlayer, SupportService } from './support.service';
import { SupportAuthGuard, SupportRequest } from './support-auth.guard';

@ApiTags('support')
@ApiBearerAuth('support')
@ApiUnauthorizedResponse({ description: 'missing or unknown support API key' })
@ApiTooManyRequestsResponse({ description: 'over SUPPORT_RATE_LIMIT_PER_MIN requests a minute for this key' })
@SkipThrottle({ player: true })
@UseGuards(SupportAuthGuard, ClientThrottlerGuard)
@Controller('support')
export class SupportController {
  private readonly brands: string[];

  constructor(
    private readonly support: SupportService,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.brands = brandIdsOf(config);
  }

  @Get('messages')
  @ApiOperation({ summary: "Search every message (a brand key: its brand's), newest first; filters combine (AND)" })
  @ApiOkResponse({ type: SupportMessageListDto })
  @ApiBadRequestResponse({ description: 'a filter is malformed (the message names it), the cursor is not ours, or from is after to' })
  async search(@Req() request: SupportRequest, @Query() query: SupportSearchQueryDto): Promise<SupportMessageList> {
    const search = toSupportSearch(query);
    const brand = searchBrand(this.brands, scopeOf(request), query.brand);
    if (brand.kind === 'invalid') throw brandProblem(brand.message);
    if (brand.kind === 'not-found') return { items: [], next_cursor: null };
    return this.support.search({ ...search, brand: brand.kind === 'brand' ? brand.brand : null });
  }

  @Get('messages/:id')
  @ApiOperation({ summary: 'One message with its timeline, every callback attempt and the callbacks’ current state' })
  @ApiOkResponse({ type: SupportMessageDetailDto })
  @ApiBadRequestResponse({ description: 'id is not a uuid' })
  @ApiNotFoundResponse({ description: 'no such message' })
  async message(@Req() request: SupportRequest, @MessageIdParam() id: string): Promise<SupportMessageDetail> {
    return found(await this.support.message(id, scopeOf(request)));
  }

  @Get('players/:ext_user_id')
  @ApiOperation({ summary: "A player's newest messages, unread count, last seen online and whether a socket is open now" })
  @ApiOkResponse({ type: SupportPlayerDto })
  @ApiBadRequestResponse({ description: 'ext_user_id is over 255 characters, or brand is missing (several brands) or not configured' })
  @ApiNotFoundResponse({ description: "a brand key asked for another brand's player" })
  player(@Req() request: SupportRequest, @Param() params: SupportPlayerParamsDto, @Query() query: SupportPlayerQueryDto): Promise<SupportPlayer> {
    const brand = chooseBrand(this.brands, scopeOf(request), query.brand);
    if (brand.kind === 'invalid') throw brandProblem(brand.message);
    if (brand.kind === 'not-found') throw new NotFoundException('player not found');
    return this.support.player({ brand: brand.brand, id: params.ext_user_id });
  }

  @Post('messages/:id/callbacks/retry')
  @HttpCode(200)
  @ApiOperation({ summary: "Re-queues the message's dead status callbacks with a fresh retry window" })
  @ApiOkResponse({ type: RetryCallbacksDto })
  @ApiBadRequestResponse({ description: 'id is not a uuid' })
  @ApiNotFoundResponse({ description: 'no such message' })
  async retryCallbacks(@Req() request: SupportRequest, @MessageIdParam() id: string): Promise<RetryCallbacksDto> {
    return { requeued: found(await this.support.retryCallbacks(id, scopeOf(request))) };
  }
}

function scopeOf(request: SupportRequest): string | null {
  return request.supportScope ?? null;
}

function brandProblem(message: string): RequestValidationError {
  return new RequestValidationError([{ field: 'brand', message, tooLarge: false }]);
}

function found<T>(value: T | null): T {
  if (value === null) throw new NotFoundException('message not found');
  return value;
}
