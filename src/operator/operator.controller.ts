import { Body, Controller, HttpCode, Inject, Post, Req, UseGuards } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiTooManyRequestsResponse,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { SkipThrottle } from '@nestjs/throttler';

import { ClientThrottlerGuard } from '../common/client-throttler.guard';
import { FieldProblem, RequestValidationError } from '../common/request-validation.error';
import { APP_CONFIG, AppConfig, brandIdsOf } from '../config/app.config';
import { chooseBrand } from '../config/brand-scope';
import { VoidedDto, VoidMessagesDto } from './operator.dto';
import { OperatorService } from './operator.service';
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
    const brand = chooseBrand(this.brands, request.operatorScope ?? null, body.brand);
    if (brand.kind === 'invalid') throw new RequestValidationError([{ field: 'brand', message: brand.message, tooLarge: false }]);
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
}
