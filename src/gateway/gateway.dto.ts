import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

import { CUSTOM_IM_LIMITS } from './custom-im.parser';

const { idLength, callbackUrlLength, bodyBytes, extensionBytes, depth } = CUSTOM_IM_LIMITS;

/** Smartico's Custom IM request, as documented in OpenAPI; checked by parseCustomImRequest, whose limits it states. */
export class CustomImRequestDto {
  @ApiProperty({
    example: 'hhu234556',
    description: 'player id as reported to Smartico; an integer is accepted and kept as a string',
    minLength: 1,
    maxLength: idLength,
  })
  ext_user_id!: string;

  @ApiProperty({ example: 'Best offer ever', description: `message text; may be empty; at most ${bodyBytes / 1024} KiB (UTF-8)` })
  body!: string;

  @ApiProperty({ example: 'ksjhdf3428yqwr8fhjhfkdj', description: 'Smartico message id, unique per gateway', minLength: 1, maxLength: idLength })
  im_uid!: string;

  @ApiProperty({
    example: 'https://api.smartico.ai/cim/callback',
    description: 'http(s) URL whose host matches CALLBACK_ALLOWED_HOSTS',
    format: 'uri',
    maxLength: callbackUrlLength,
  })
  callback_url!: string;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    nullable: true,
    example: { title: 'Microsoft is raising', description: 'The bullish trend...', action: 'BUY', instrument: 'MSFT', display: 'both' },
    description:
      `template fields, kept untouched; at most ${extensionBytes / 1024} KiB as JSON, nesting at most ${depth} levels in the request; ` +
      'well-known keys: title, image_url, cta_url, cta_text, category, display, priority, expires_at',
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
