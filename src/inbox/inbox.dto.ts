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

  @ApiPropertyOptional({ description: 'only favourites' })
  @IsOptional()
  @Transform(toBoolean)
  @IsBoolean({ message: 'starred must be true or false' })
  starred?: boolean;

  @ApiPropertyOptional({ description: 'only this extension.category' })
  @IsOptional()
  @IsString({ message: 'category must be a string' })
  @MaxLength(255, { message: 'category must be at most 255 characters' })
  category?: string;
}

export class ArchiveAllQueryDto {
  @ApiPropertyOptional({ description: 'only messages of this extension.category' })
  @IsOptional()
  @IsString({ message: 'category must be a string' })
  @MaxLength(255, { message: 'category must be at most 255 characters' })
  category?: string;
}

export class ButtonViewDto {
  @ApiProperty() id!: string;
  @ApiProperty() text!: string;
  @ApiProperty({ nullable: true, type: String, description: 'tracked link of a url button' }) link!: string | null;
  @ApiProperty({ nullable: true, type: String, description: 'server-executed action (SPEC §7)' }) action!: string | null;
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
  @ApiProperty({ nullable: true, type: String, description: 'extension.body_html, sanitized at ingest' }) body_html!: string | null;
  @ApiProperty({ type: [ButtonViewDto] }) buttons!: ButtonViewDto[];
  @ApiProperty({ format: 'date-time', nullable: true, type: String, description: 'when the player made it a favourite' }) starred_at!: string | null;
  @ApiProperty({ description: 'whether this delivery shows as a popup' }) popup!: boolean;
  @ApiProperty({ nullable: true, type: 'object', additionalProperties: true, description: 'outcome of a server-executed button action' })
  action_result!: Record<string, unknown> | null;
}

export class InboxListDto {
  @ApiProperty({ type: [MessageViewDto] }) items!: MessageViewDto[];
  @ApiProperty({ nullable: true, type: String }) next_cursor!: string | null;
}

export class UnreadCountDto {
  @ApiProperty({ example: 3 }) count!: number;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'integer' }, example: { bonus: 2 }, description: 'unread per category' })
  categories!: Record<string, number>;
}

export class ButtonPressDto {
  @ApiProperty({ nullable: true, type: String, description: "the url button's target (the click is already recorded); null for a button that only closes" })
  link!: string | null;
  @ApiPropertyOptional({ description: "an action button: the operator's answer (also the message's action_result)" }) ok?: boolean;
  @ApiPropertyOptional({ description: "an action button: the operator's message to show" }) message?: string;
  @ApiPropertyOptional({ description: 'an action button whose operator did not answer within 10 s: the result follows as an update' })
  pending?: boolean;
}

export class ArchiveAllDto {
  @ApiProperty({ example: 3, description: 'how many messages this archived' }) archived!: number;
}

export class ReadAllDto {
  @ApiProperty({ example: 3, description: 'how many messages this marked read' }) read!: number;
}
