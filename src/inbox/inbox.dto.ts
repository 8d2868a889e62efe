import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsBoolean, IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';

import { toBoolean, toInt } from '../common/query-transforms';

export class InboxListQueryDto {
  @ApiPropertyOptional({ minimum: 1, maximum: 100, default: 20 })
  @IsOptional()
  @Transform(toInt)
  @IsInt({ message: 'limit must be an integer' })
  @Min(1, { message: 'limit must be at least 1' })
  @Max(100, { message: 'limit must be at most 100' })
  limit?: number;

  @ApiPropertyOptional({ description: 'next_cursor of the previous page' })
  @IsOptional()
  @IsString({ message: 'cursor must be a string' })
  @MaxLength(200, { message: 'cursor is not valid' })
  cursor?: string;

  @ApiPropertyOptional({ description: 'only unread messages' })
  @IsOptional()
  @Transform(toBoolean)
  @IsBoolean({ message: 'unread must be true or false' })
  unread?: boolean;

  @ApiPropertyOptional({ description: 'only this extension.category' })
  @IsOptional()
  @IsString({ message: 'category must be a string' })
  @MaxLength(255, { message: 'category must be at most 255 characters' })
  category?: string;
}

export class MessageViewDto {
  @ApiProperty({ format: 'uuid', description: 'equals the ext_message_id given to Smartico' }) id!: string;
  @ApiProperty() im_uid!: string;
  @ApiProperty() body!: string;
  @ApiProperty({ type: 'object', additionalProperties: true, nullable: true }) extension!: Record<string, unknown> | null;
  @ApiProperty({ enum: ['popup', 'inbox', 'both'] }) display!: string;
  @ApiProperty({ enum: ['high', 'normal'] }) priority!: string;
  @ApiProperty({ nullable: true, type: String }) category!: string | null;
  @ApiProperty({ nullable: true, type: String, description: 'click-tracking link for extension.cta_url' }) cta_link!: string | null;
  @ApiProperty({ format: 'date-time' }) created_at!: string;
  @ApiProperty({ format: 'date-time', nullable: true, type: String }) delivered_at!: string | null;
  @ApiProperty({ format: 'date-time', nullable: true, type: String }) opened_at!: string | null;
  @ApiProperty({ format: 'date-time', nullable: true, type: String }) clicked_at!: string | null;
  @ApiProperty({ format: 'date-time', nullable: true, type: String }) read_at!: string | null;
  @ApiProperty({ format: 'date-time', nullable: true, type: String }) expires_at!: string | null;
}

export class InboxListDto {
  @ApiProperty({ type: [MessageViewDto] }) items!: MessageViewDto[];
  @ApiProperty({ nullable: true, type: String }) next_cursor!: string | null;
}

export class UnreadCountDto {
  @ApiProperty({ example: 3 }) count!: number;
}

export class ReadAllDto {
  @ApiProperty({ example: 3, description: 'how many messages this marked read' }) read!: number;
}
