import { Body, Controller, HttpCode, Post, Req, UseGuards } from '@nestjs/common';
import { ApiBody, ApiExtraModels, ApiOkResponse, ApiOperation, ApiSecurity, ApiTags, getSchemaPath } from '@nestjs/swagger';

import { CustomImPipe, CustomImRequest } from './custom-im.parser';
import { GATEWAY_PATH } from './gateway.constants';
import { CustomImRequestDto, GatewayAcceptedDto, GatewayRefusedDto } from './gateway.dto';
import { GATEWAY_ERROR_DESCRIPTIONS, GatewayAccepted } from './gateway.errors';
import { GatewayService } from './gateway.service';
import { GatewayAuthGuard, GatewayRequest } from './gateway-auth.guard';

const ERROR_TABLE = Object.entries(GATEWAY_ERROR_DESCRIPTIONS)
  .map(([code, meaning]) => `| ${code} | ${meaning} |`)
  .join('\n');

@ApiTags('gateway')
@ApiExtraModels(GatewayAcceptedDto, GatewayRefusedDto)
@Controller()
export class GatewayController {
  constructor(private readonly gateway: GatewayService) {}

  @Post(GATEWAY_PATH)
  @HttpCode(200)
  @UseGuards(GatewayAuthGuard)
  @ApiOperation({
    summary: "Smartico's Custom IM delivery",
    description:
      'Called by Smartico for every Custom IM. Always answers HTTP 200 JSON: `{"error_code":0,"ext_message_id":…}` once the ' +
      'message is committed, or `{"error_code":N,"error_message":…}`. Replaying an accepted request answers the same ' +
      `ext_message_id.\n\n| error_code | meaning |\n|---|---|\n${ERROR_TABLE}`,
  })
  @ApiSecurity('gateway')
  @ApiBody({ type: CustomImRequestDto })
  @ApiOkResponse({ schema: { oneOf: [{ $ref: getSchemaPath(GatewayAcceptedDto) }, { $ref: getSchemaPath(GatewayRefusedDto) }] } })
  accept(@Req() request: GatewayRequest, @Body(CustomImPipe) body: CustomImRequest): Promise<GatewayAccepted> {
    return this.gateway.accept(request.gateway!, body);
  }
}
