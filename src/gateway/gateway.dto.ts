import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsDefined, IsObject, IsOptional, IsString, MaxLength, MinLength } from 'class-validator';
import { IsHttpUrl, IsStorableText, MaxBytes, MaxJsonBytes } from '../common/validators';
import { MAX_BODY_BYTES, MAX_CALLBACK_URL_LENGTH, MAX_EXTENSION_BYTES, MAX_ID_LENGTH } from './gateway.constants';

/** Smartico may send a numeric player id; a safe integer is kept as its decimal string. */
const integerToString = ({ value }: { value: unknown }): unknown =>
  typeof value === 'number' && Number.isSafeInteger(value) ? String(value) : value;

/** Smartico sends `null` for fields it has no value for. */
const nullToUndefined = ({ value }: { value: unknown }): unknown => (value === null ? undefined : value);

/** Smartico's Custom IM request (seed 002, "Technical implementation of Custom IM API"). */
export class CustomImRequestDto {
  @ApiProperty({ example: 'hhu234556', description: 'player id as reported to Smartico; an integer is accepted and kept as a string', maxLength: MAX_ID_LENGTH })
  @IsDefined({ message: 'ext_user_id is required' })
  @Transform(integerToString)
  @IsString({ message: 'ext_user_id must be a string or an integer' })
  @MinLength(1, { message: 'ext_user_id must not be empty' })
  @MaxLength(MAX_ID_LENGTH, { message: `ext_user_id must be at most ${MAX_ID_LENGTH} characters` })
  @IsStorableText({ message: 'ext_user_id must not contain NUL characters or unpaired surrogates' })
  ext_user_id!: string;

  @ApiProperty({ example: 'Best offer ever', description: 'message text; may be empty; at most 64 KiB (UTF-8)' })
  @IsDefined({ message: 'body is required' })
  @IsString({ message: 'body must be a string' })
  @MaxBytes(MAX_BODY_BYTES, { message: 'body must be at most 64 KiB' })
  @IsStorableText({ message: 'body must not contain NUL characters or unpaired surrogates' })
  body!: string;

  @ApiProperty({ example: 'ksjhdf3428yqwr8fhjhfkdj', description: 'Smartico message id, unique per gateway', maxLength: MAX_ID_LENGTH })
  @IsDefined({ message: 'im_uid is required' })
  @IsString({ message: 'im_uid must be a string' })
  @MinLength(1, { message: 'im_uid must not be empty' })
  @MaxLength(MAX_ID_LENGTH, { message: `im_uid must be at most ${MAX_ID_LENGTH} characters` })
  @IsStorableText({ message: 'im_uid must not contain NUL characters or unpaired surrogates' })
  im_uid!: string;

  @ApiProperty({ example: 'https://api.smartico.ai/cim/callback', description: 'http(s) URL whose host matches CALLBACK_ALLOWED_HOSTS' })
  @IsDefined({ message: 'callback_url is required' })
  @IsString({ message: 'callback_url must be a string' })
  @MaxLength(MAX_CALLBACK_URL_LENGTH, { message: `callback_url must be at most ${MAX_CALLBACK_URL_LENGTH} characters` })
  @IsHttpUrl({ message: 'callback_url must be an absolute http or https URL' })
  @IsStorableText({ message: 'callback_url must not contain NUL characters or unpaired surrogates' })
  callback_url!: string;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    example: { title: 'Microsoft is raising', description: 'The bullish trend...', action: 'BUY', instrument: 'MSFT', display: 'both' },
    description: 'template fields, kept untouched; well-known keys: title, image_url, cta_url, cta_text, category, display, priority, expires_at',
  })
  @IsOptional()
  @Transform(nullToUndefined)
  @IsObject({ message: 'extension must be a JSON object' })
  @MaxJsonBytes(MAX_EXTENSION_BYTES, { message: 'extension must serialize to at most 64 KiB' })
  @IsStorableText({ message: 'extension must not contain NUL characters or unpaired surrogates' })
  extension?: Record<string, unknown>;

  @ApiPropertyOptional({ nullable: true, description: 'ignored (Smartico sends null)' })
  @IsOptional()
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
