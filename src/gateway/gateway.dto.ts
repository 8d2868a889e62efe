import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

import { MAX_ID_LENGTH } from './gateway.constants';

/** Smartico's Custom IM request, as documented in OpenAPI; checked by parseCustomImRequest (custom-im.parser.ts). */
export class CustomImRequestDto {
  @ApiProperty({
    example: 'hhu234556',
    description: 'player id as reported to Smartico; an integer is accepted and kept as a string',
    maxLength: MAX_ID_LENGTH,
  })
  ext_user_id!: string;

  @ApiProperty({ example: 'Best offer ever', description: 'message text; may be empty; at most 64 KiB (UTF-8)' })
  body!: string;

  @ApiProperty({ example: 'ksjhdf3428yqwr8fhjhfkdj', description: 'Smartico message id, unique per gateway', maxLength: MAX_ID_LENGTH })
  im_uid!: string;

  @ApiProperty({ example: 'https://api.smartico.ai/cim/callback', description: 'http(s) URL whose host matches CALLBACK_ALLOWED_HOSTS' })
  callback_url!: string;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    example: { title: 'Microsoft is raising', description: 'The bullish trend...', action: 'BUY', instrument: 'MSFT', display: 'both' },
    description: 'template fields, kept untouched; well-known keys: title, image_url, cta_url, cta_text, category, display, priority, expires_at',
  })
  extension?: Record<string, unknown>;

  @ApiPropertyOptional({ nullable: true, description: 'ignored (Smartico sends null)' })
  from_number?: unknown;
}

export class GatewayAcceptedDto {
  @ApiProperty({ example: 0, enum: [0] })
  error_code!: 0;

  @ApiProperty({ example: 'a540f662-45b3-11ee-be56-0242ac120002', description: 'our message id; the ext_message_id of every status callback' })
  ext_message_id!: string;
}

export class GatewayRefusedDto {
  @ApiProperty({ example: 2, enum: [1, 2, 3, 4, 5, 6] })
  error_code!: number;

  @ApiProperty({ example: 'callback_url is required' })
  error_message!: string;
}
