import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, IsUUID, Length, MaxLength } from 'class-validator';

import { BrandField } from '../common/brand-field.decorator';
import { IsIsoInstant } from '../common/iso-instant.decorator';
import { SUPPRESSION_STATES, SuppressionState } from './suppression.table';

export class VoidMessagesDto {
  @BrandField('the brand of the messages: required when more than one brand is configured and the key is global')
  brand?: string;

  @ApiPropertyOptional({ description: 'only this player’s messages', maxLength: 255, example: '12345' })
  @IsOptional()
  @IsString({ message: 'ext_user_id must be a string' })
  @MaxLength(255, { message: 'ext_user_id must be at most 255 characters' })
  ext_user_id?: string;

  @ApiPropertyOptional({ description: 'the message (its ext_message_id)', format: 'uuid' })
  @IsOptional()
  @IsUUID('all', { message: 'id must be a message id (uuid)' })
  id?: string;

  @ApiPropertyOptional({ description: 'Smartico’s im_uid of the message; with gateway_id', maxLength: 255 })
  @IsOptional()
  @IsString({ message: 'im_uid must be a string' })
  @Length(1, 255, { message: 'im_uid must be 1-255 characters' })
  im_uid?: string;

  @ApiPropertyOptional({ description: 'the gateway (CIM_GATEWAYS id) the im_uid came through; with im_uid', maxLength: 64 })
  @IsOptional()
  @IsString({ message: 'gateway_id must be a string' })
  @Length(1, 64, { message: 'gateway_id must be 1-64 characters' })
  gateway_id?: string;

  @ApiPropertyOptional({ description: 'every message whose extension.group is this', maxLength: 255, example: 'welcome-bonus-2026-12' })
  @IsOptional()
  @IsString({ message: 'group must be a string' })
  @Length(1, 255, { message: 'group must be 1-255 characters' })
  group?: string;

  @ApiProperty({ description: 'why: sent to the player’s tabs with the `void` event and kept on the message', maxLength: 200, example: 'claimed' })
  @IsString({ message: 'reason must be a string' })
  @Length(1, 200, { message: 'reason must be 1-200 characters' })
  reason!: string;
}

export class VoidedDto {
  @ApiProperty({ description: 'how many messages this call voided (0 when all were voided already)' }) voided!: number;
}

export class PlayerParamsDto {
  @ApiProperty({ description: "the player's id in the operator's platform", maxLength: 255, example: '12345' })
  @IsString({ message: 'ext_user_id must be a string' })
  @MaxLength(255, { message: 'ext_user_id must be at most 255 characters' })
  ext_user_id!: string;
}

export class SuppressionQueryDto {
  @BrandField("the player's brand: required when more than one brand is configured and the key is global")
  brand?: string;
}

export class SetSuppressionDto {
  @BrandField("the player's brand: required when more than one brand is configured and the key is global")
  brand?: string;

  @ApiProperty({ enum: SUPPRESSION_STATES, description: 'none lifts it; the others hide every non-exempt message for good' })
  @IsIn(SUPPRESSION_STATES, { message: `state must be one of ${SUPPRESSION_STATES.join(', ')}` })
  state!: SuppressionState;

  @ApiPropertyOptional({ description: 'when it ends by itself (ISO 8601, in the future); absent: until set to none', example: '2027-01-31T00:00:00Z' })
  @IsOptional()
  @IsString({ message: 'until must be a string' })
  @MaxLength(64, { message: 'until must be an ISO 8601 date-time, e.g. 2027-01-31T00:00:00Z' })
  @IsIsoInstant({ message: 'until must be an ISO 8601 date-time, e.g. 2027-01-31T00:00:00Z' })
  until?: string;
}

export class SuppressionDto {
  @ApiProperty({ example: 'default' }) brand!: string;
  @ApiProperty({ example: '12345' }) ext_user_id!: string;
  @ApiProperty({ enum: SUPPRESSION_STATES, description: 'in force now: none once until has passed' }) state!: SuppressionState;
  @ApiProperty({ format: 'date-time', nullable: true, type: String }) until!: string | null;
  @ApiProperty({ format: 'date-time', nullable: true, type: String, description: 'when the operator last set it; null: never' }) set_at!: string | null;
}
