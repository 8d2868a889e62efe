import { Controller, Get, Logger, Query } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';

/** Dev mode only: stands in for Smartico's callback endpoint so the printed curl works end to end. */
@ApiExcludeController()
@Controller('dev')
export class DevController {
  private readonly logger = new Logger(DevController.name);

  @Get('callback')
  callback(@Query('ext_message_id') messageId?: string, @Query('status') status?: string): { error_code: 0 } {
    this.logger.log({ messageId, status }, 'dev callback received');
    return { error_code: 0 };
  }
}
