import { Body, Controller, Get, HttpCode, Inject, NotFoundException, Param, Post, Put, Query, Req, UseGuards } from '@nestjs/common';
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
import { parseIsoInstant } from '../common/iso-8601';
import { FieldProblem, RequestValidationError } from '../common/request-validation.error';
import { APP_CONFIG, AppConfig, brandIdsOf } from '../config/app.config';
import { BrandChoice, chooseBrand } from '../config/brand-scope';
import type { PlayerRef } from '../messages/player-ref';
import { PlayerParamsDto, SetSuppressionDto, SuppressionDto, SuppressionQueryDto, VoidedDto, VoidMessagesDto } from './operator.dto';
import { OperatorService, SuppressionView } from './operator.service';
import { OperatorAuthGuard, OperatorRequest } from './operator-auth.guard';

@ApiTags('operator')
@ApiBearerAuth('operator')
@ApiUnauthorizedResponse({ description: 'missing or unknown operator API key' })
@ApiTooManyRequestsResponse({ description: 'over SUPPORT_RATE_LIMIT_PER_MIN requests a minute for this key' })
@SkipThrottle({ player: true })
@UseGuards(OperatorAuthGuard, ClientThrottlerGuard)
@Controller('operator')
export class OperatorController {
  private readonly brands: string[];

  constructor(
    private readonly operator: OperatorService,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.brands = brandIdsOf(config);
  }

  @Post('messages/void')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Takes messages back: gone from every open tab now, never listed, counted or caught up again; `failed` for undelivered ones',
  })
  @ApiOkResponse({ type: VoidedDto })
  @ApiBadRequestResponse({ description: 'no selector (id, im_uid with gateway_id, or group), a malformed field, or brand missing or unknown' })
  async void(@Req() request: OperatorRequest, @Body() body: VoidMessagesDto): Promise<VoidedDto> {
    const problems: FieldProblem[] = [];
    if ((body.im_uid === undefined) !== (body.gateway_id === undefined)) {
      problems.push({ field: body.im_uid === undefined ? 'im_uid' : 'gateway_id', message: 'im_uid and gateway_id go together', tooLarge: false });
    }
    if (body.id === undefined && body.im_uid === undefined && body.gateway_id === undefined && body.group === undefined) {
      problems.push({ field: 'id', message: 'one of id, im_uid with gateway_id, or group is required', tooLarge: false });
    }
    if (problems.length > 0) throw new RequestValidationError(problems);
    const brand = this.brandOf(request, body.brand);
    // a brand key naming another brand reaches nothing, as an unknown id would
    if (brand.kind === 'not-found') return { voided: 0 };
    const voided = await this.operator.void(
      {
        brand: brand.brand,
        extUserId: body.ext_user_id ?? null,
        id: body.id?.toLowerCase() ?? null,
        gatewayId: body.gateway_id ?? null,
        imUid: body.im_uid ?? null,
        group: body.group ?? null,
      },
      body.reason,
    );
    return { voided };
  }

  @Get('players/:ext_user_id/suppression')
  @ApiOperation({ summary: "The player's responsible-gambling suppression (none when never set)" })
  @ApiOkResponse({ type: SuppressionDto })
  @ApiBadRequestResponse({ description: 'ext_user_id is over 255 characters, or brand is missing (several brands) or not configured' })
  @ApiNotFoundResponse({ description: "a brand key asked for another brand's player" })
  suppression(@Req() request: OperatorRequest, @Param() params: PlayerParamsDto, @Query() query: SuppressionQueryDto): Promise<SuppressionView> {
    return this.operator.suppression(this.playerOf(request, params.ext_user_id, query.brand));
  }

  @Put('players/:ext_user_id/suppression')
  @ApiOperation({
    summary:
      'Sets the suppression: while in force every message not of SUPPRESSION_EXEMPT_CATEGORIES is hidden for good (undelivered ones rejected to Smartico), new ones are stored and rejected',
  })
  @ApiOkResponse({ type: SuppressionDto })
  @ApiBadRequestResponse({ description: 'state or until is malformed, until is past, or brand is missing (several brands) or not configured' })
  @ApiNotFoundResponse({ description: "a brand key asked for another brand's player" })
  async suppress(@Req() request: OperatorRequest, @Param() params: PlayerParamsDto, @Body() body: SetSuppressionDto): Promise<SuppressionView> {
    const player = this.playerOf(request, params.ext_user_id, body.brand);
    const untilMs = body.until === undefined ? null : parseIsoInstant(body.until);
    if (untilMs !== null && body.state !== 'none' && untilMs <= Date.now()) {
      throw new RequestValidationError([{ field: 'until', message: 'until must be in the future', tooLarge: false }]);
    }
    // `none` has no end
    return this.operator.suppress(player, body.state, body.state === 'none' || untilMs === null ? null : new Date(untilMs));
  }

  private brandOf(request: OperatorRequest, requested: string | undefined): Exclude<BrandChoice, { kind: 'invalid' }> {
    const brand = chooseBrand(this.brands, request.operatorScope ?? null, requested);
    if (brand.kind === 'invalid') throw new RequestValidationError([{ field: 'brand', message: brand.message, tooLarge: false }]);
    return brand;
  }

  private playerOf(request: OperatorRequest, id: string, requested: string | undefined): PlayerRef {
    const brand = this.brandOf(request, requested);
    if (brand.kind === 'not-found') throw new NotFoundException('player not found');
    return { brand: brand.brand, id };
  }
}
