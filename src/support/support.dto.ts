import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Max, MaxLength, Min, MinLength } from 'class-validator';

import { BrandField } from '../common/brand-field.decorator';
import { parseIsoInstant } from '../common/iso-8601';
import { IsIsoInstant } from '../common/iso-instant.decorator';
import { toInt } from '../common/query-transforms';
import { FieldProblem, RequestValidationError } from '../common/request-validation.error';
import { MessageViewDto } from '../inbox/inbox.dto';
import { decodeCursor } from '../messages/inbox-cursor';
import { CALLBACK_STATUSES, FURTHEST_STATUSES, FurthestStatus, TIMELINE_EVENTS } from '../messages/message-status';
import { SuppressionDto } from '../operator/operator.dto';
import { CALLBACK_STATES } from '../tracking/callback.table';
import type { SupportSearch } from './support.repository';

export const SUPPORT_DEFAULT_LIMIT = 50;
/** Over this a search is refused (400), as the inbox does, rather than silently shortened. */
export const SUPPORT_MAX_LIMIT = 200;

const instantMessage = (field: string): string => `${field} must be an ISO 8601 date or date-time, e.g. 2026-01-31 or 2026-01-31T12:00:00Z (send + as %2B)`;

export class SupportSearchQueryDto {
  @BrandField('only this brand (a brand key always sees only its own)')
  brand?: string;

  @ApiPropertyOptional({ description: "the player's id in the operator's platform (exact match)", maxLength: 255, example: '12345' })
  @IsOptional()
  @IsString({ message: 'ext_user_id must be a string' })
  @MinLength(1, { message: 'ext_user_id must not be empty' })
  @MaxLength(255, { message: 'ext_user_id must be at most 255 characters' })
  ext_user_id?: string;

  @ApiPropertyOptional({ description: "Smartico's im_uid (exact match, any gateway)", maxLength: 255 })
  @IsOptional()
  @IsString({ message: 'im_uid must be a string' })
  @MinLength(1, { message: 'im_uid must not be empty' })
  @MaxLength(255, { message: 'im_uid must be at most 255 characters' })
  im_uid?: string;

  @ApiPropertyOptional({
    enum: FURTHEST_STATUSES,
    description:
      'furthest status: clicked if clicked, else opened if opened, else delivered if delivered, else rejected (a suppression kept it from the player) or failed, else accepted',
  })
  @IsOptional()
  @IsIn(FURTHEST_STATUSES, { message: `status must be one of ${FURTHEST_STATUSES.join(', ')}` })
  status?: FurthestStatus;

  @ApiPropertyOptional({
    description: 'created at or after this instant (ISO 8601; UTC when no zone is given; compared to the millisecond)',
    example: '2026-01-01T00:00:00Z',
  })
  @IsOptional()
  @IsString({ message: 'from must be a string' })
  @MaxLength(64, { message: instantMessage('from') })
  @IsIsoInstant({ message: instantMessage('from') })
  from?: string;

  @ApiPropertyOptional({
    description: 'created at or before this instant, inclusive to the millisecond, so a created_at copied from a view matches',
    example: '2026-01-31T23:59:59.999Z',
  })
  @IsOptional()
  @IsString({ message: 'to must be a string' })
  @MaxLength(64, { message: instantMessage('to') })
  @IsIsoInstant({ message: instantMessage('to') })
  to?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: SUPPORT_MAX_LIMIT, default: SUPPORT_DEFAULT_LIMIT, description: 'more than 200 is refused (400)' })
  @IsOptional()
  @Transform(toInt)
  @IsInt({ message: 'limit must be an integer' })
  @Min(1, { message: 'limit must be at least 1' })
  @Max(SUPPORT_MAX_LIMIT, { message: `limit must be at most ${SUPPORT_MAX_LIMIT}` })
  limit?: number;

  @ApiPropertyOptional({ description: 'next_cursor of the previous page (with the same filters)' })
  @IsOptional()
  @IsString({ message: 'cursor must be a string' })
  @MaxLength(200, { message: 'cursor is not valid' })
  cursor?: string;
}

/** The validated query as the repository takes it (brand aside: the key decides it); 400 for a cursor we did not make or a range that cannot match. */
export function toSupportSearch(query: SupportSearchQueryDto): Omit<SupportSearch, 'brand'> {
  const cursor = query.cursor === undefined ? null : decodeCursor(query.cursor);
  const fromMs = query.from === undefined ? null : parseIsoInstant(query.from);
  const toMs = query.to === undefined ? null : parseIsoInstant(query.to);
  const problems: FieldProblem[] = [];
  if (query.cursor !== undefined && cursor === null) problems.push({ field: 'cursor', message: 'cursor is not valid', tooLarge: false });
  if (fromMs !== null && toMs !== null && fromMs > toMs) {
    problems.push({ field: 'to', message: `from (${query.from}) is after to (${query.to}): the range is empty`, tooLarge: false });
  }
  if (problems.length > 0) throw new RequestValidationError(problems);
  return {
    extUserId: query.ext_user_id ?? null,
    imUid: query.im_uid ?? null,
    status: query.status ?? null,
    fromMs,
    toMs,
    cursor,
    limit: query.limit ?? SUPPORT_DEFAULT_LIMIT,
  };
}

export class SupportPlayerParamsDto {
  @ApiProperty({ description: "the player's id in the operator's platform", maxLength: 255, example: '12345' })
  @IsString({ message: 'ext_user_id must be a string' })
  @MaxLength(255, { message: 'ext_user_id must be at most 255 characters' })
  ext_user_id!: string;
}

export class SupportPlayerQueryDto {
  @BrandField("the player's brand: required when more than one brand is configured and the key is global")
  brand?: string;
}

export class SupportMessageViewDto extends MessageViewDto {
  @ApiProperty({ example: '12345' }) ext_user_id!: string;
  @ApiProperty({ description: 'the brand (player space) of its gateway', example: 'default' }) brand!: string;
  @ApiProperty({ description: 'the gateway that accepted it', example: 'brand-a' }) gateway_id!: string;
  @ApiProperty({
    enum: FURTHEST_STATUSES,
    description: 'the furthest status: clicked, else opened, else delivered, else rejected (a suppression kept it from the player) or failed, else accepted',
    example: 'opened',
  })
  status!: FurthestStatus;
  @ApiProperty({ format: 'date-time', nullable: true, type: String }) archived_at!: string | null;
  @ApiProperty({
    description: "Smartico's callback URL as received (our parameters are added when sending)",
    example: 'https://api.smartico.ai/cim/callback?label=7',
  })
  callback_url!: string;
  @ApiProperty({ format: 'date-time', nullable: true, type: String, description: 'when the operator voided it' }) voided_at!: string | null;
  @ApiProperty({ nullable: true, type: String, description: 'the reason given to the void' }) void_reason!: string | null;
  @ApiProperty({ nullable: true, type: String, description: 'extension.group, what a void by group matches' }) group!: string | null;
  @ApiProperty({ description: 'hidden by a responsible-gambling suppression' }) suppressed!: boolean;
}

export class SupportMessageListDto {
  @ApiProperty({ type: [SupportMessageViewDto] }) items!: SupportMessageViewDto[];
  @ApiProperty({ nullable: true, type: String, description: 'pass as cursor for the next page; null on the last page' }) next_cursor!: string | null;
}

export class TimelineEntryDto {
  @ApiProperty({ enum: TIMELINE_EVENTS, example: 'delivered' }) event!: string;
  @ApiProperty({ format: 'date-time' }) at!: string;
  @ApiPropertyOptional({ description: 'on a clicked event: the button it came from' }) button_id?: string;
}

export class CallbackAttemptDto {
  @ApiProperty({ enum: CALLBACK_STATUSES, description: 'the status reported' }) status!: string;
  @ApiProperty({ format: 'date-time' }) attempted_at!: string;
  @ApiProperty({ nullable: true, type: Number, description: "Smartico's HTTP status; null when no answer came", example: 200 })
  http_status!: number | null;
  @ApiProperty({ nullable: true, type: String, description: 'why the attempt failed; null on success', example: 'http 503' })
  error!: string | null;
  @ApiProperty({ example: 42 }) duration_ms!: number;
}

export class OutboxEntryDto {
  @ApiProperty({ enum: CALLBACK_STATUSES }) status!: string;
  @ApiProperty({ enum: CALLBACK_STATES, description: 'dead: retries gave up; POST …/callbacks/retry re-queues it' }) state!: string;
  @ApiProperty({ example: 1 }) attempts!: number;
  @ApiProperty({ format: 'date-time', nullable: true, type: String, description: 'when the next try is due; null unless pending' })
  next_attempt_at!: string | null;
  @ApiProperty({ format: 'date-time', nullable: true, type: String }) sent_at!: string | null;
  @ApiProperty({ nullable: true, type: String, description: 'the error of the latest attempt' }) last_error!: string | null;
}

export class SupportMessageDetailDto {
  @ApiProperty({ type: SupportMessageViewDto }) message!: SupportMessageViewDto;
  @ApiProperty({ type: [TimelineEntryDto], description: 'accepted, each recorded event, and expired once expires_at passed; by time' })
  timeline!: TimelineEntryDto[];
  @ApiProperty({ type: [CallbackAttemptDto], description: 'every attempt at a status callback to Smartico, oldest first' })
  callbacks!: CallbackAttemptDto[];
  @ApiProperty({ type: [OutboxEntryDto], description: 'the current state of each status callback, in funnel order' })
  outbox!: OutboxEntryDto[];
}

export class SupportPlayerDto {
  @ApiProperty({ example: 'default' }) brand!: string;
  @ApiProperty({ example: '12345' }) ext_user_id!: string;
  @ApiProperty({ description: 'what the player’s unread badge shows', example: 3 }) unread_count!: number;
  @ApiProperty({ format: 'date-time', nullable: true, type: String, description: 'when a socket of theirs was last open; null if never' })
  last_seen_at!: string | null;
  @ApiProperty({ nullable: true, type: Boolean, description: 'a socket is open now on any instance; null when the cluster did not answer in time' })
  connected!: boolean | null;
  @ApiProperty({ type: SuppressionDto, description: "the player's responsible-gambling suppression" }) suppression!: SuppressionDto;
  @ApiProperty({ type: SupportMessageListDto, description: 'their newest 50 messages, all states; page on with GET /support/messages?ext_user_id=…&cursor=…' })
  messages!: SupportMessageListDto;
}

export class RetryCallbacksDto {
  @ApiProperty({ description: 'dead callbacks put back in the queue (0 when none was dead)', example: 2 }) requeued!: number;
}
