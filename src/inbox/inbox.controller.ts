import { ConflictException, Controller, Delete, Get, HttpCode, NotFoundException, Param, Post, Query, UseGuards } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiConflictResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiTooManyRequestsResponse,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { SkipThrottle } from '@nestjs/throttler';

import { ClientThrottlerGuard } from '../common/client-throttler.guard';
import { MessageIdParam } from '../common/message-id.param';
import { RequestValidationError } from '../common/request-validation.error';
import { decodeCursor } from '../messages/inbox-cursor';
import type { MessageView } from '../messages/message.view';
import { ArchiveAllDto, ArchiveAllQueryDto, ButtonPressDto, InboxListDto, InboxListQueryDto, MessageViewDto, ReadAllDto, UnreadCountDto } from './inbox.dto';
import { InboxList, InboxService } from './inbox.service';
import { CurrentPlayer, PlayerAuthGuard } from './player-auth.guard';
import type { Player } from './player-auth.service';

@ApiTags('inbox')
@ApiBearerAuth('player')
@ApiUnauthorizedResponse({ description: 'missing, invalid or expired player token' })
@ApiTooManyRequestsResponse({ description: 'over PLAYER_RATE_LIMIT_PER_MIN requests a minute for this player' })
@SkipThrottle({ support: true })
@UseGuards(PlayerAuthGuard, ClientThrottlerGuard)
@Controller('inbox')
export class InboxController {
  constructor(private readonly inbox: InboxService) {}

  @Get('messages')
  @ApiOperation({ summary: "The player's inbox, newest first (archived and popup-only messages excluded)" })
  @ApiOkResponse({ type: InboxListDto })
  @ApiBadRequestResponse({ description: 'a query parameter is malformed (the message names it)' })
  list(@CurrentPlayer() player: Player, @Query() query: InboxListQueryDto): Promise<InboxList> {
    const cursor = query.cursor === undefined ? null : decodeCursor(query.cursor);
    if (query.cursor !== undefined && cursor === null) {
      throw new RequestValidationError([{ field: 'cursor', message: 'cursor is not valid', tooLarge: false }]);
    }
    return this.inbox.list(player, {
      limit: query.limit ?? 20,
      cursor,
      unreadOnly: query.unread === true,
      starredOnly: query.starred === true,
      category: query.category ?? null,
    });
  }

  @Get('unread-count')
  @ApiOperation({ summary: 'How many inbox messages the player has not read, in total and per category' })
  @ApiOkResponse({ type: UnreadCountDto })
  unreadCount(@CurrentPlayer() player: Player): Promise<UnreadCountDto> {
    return this.inbox.unreadCount(player);
  }

  @Post('messages/:id/star')
  @HttpCode(200)
  @ApiOperation({ summary: 'Makes the message a favourite (idempotent; no status callback)' })
  @ApiOkResponse({ type: MessageViewDto })
  @ApiBadRequestResponse({ description: 'id is not a uuid' })
  @ApiNotFoundResponse({ description: 'not a message of this player' })
  star(@CurrentPlayer() player: Player, @MessageIdParam() id: string): Promise<MessageView> {
    return this.found(this.inbox.star(player, id, true));
  }

  @Delete('messages/:id/star')
  @HttpCode(200)
  @ApiOperation({ summary: 'No longer a favourite (idempotent)' })
  @ApiOkResponse({ type: MessageViewDto })
  @ApiBadRequestResponse({ description: 'id is not a uuid' })
  @ApiNotFoundResponse({ description: 'not a message of this player' })
  unstar(@CurrentPlayer() player: Player, @MessageIdParam() id: string): Promise<MessageView> {
    return this.found(this.inbox.star(player, id, false));
  }

  @Post('messages/:id/buttons/:button_id')
  @HttpCode(200)
  @ApiOperation({ summary: 'Presses a button: a url button records clicked (with its id) and answers its target in link' })
  @ApiOkResponse({ type: ButtonPressDto })
  @ApiBadRequestResponse({ description: 'id is not a uuid, or button_id is malformed' })
  @ApiNotFoundResponse({ description: 'not a message of this player, or no such button' })
  @ApiConflictResponse({ description: 'an action button, and no action handler is configured' })
  async pressButton(@CurrentPlayer() player: Player, @MessageIdParam() id: string, @Param('button_id') buttonId: string): Promise<ButtonPressDto> {
    if (buttonId.length === 0 || buttonId.length > 64) {
      throw new RequestValidationError([{ field: 'button_id', message: 'button_id must be 1-64 characters', tooLarge: false }]);
    }
    const press = await this.inbox.pressButton(player, id, buttonId);
    if (press === null) throw new NotFoundException('message or button not found');
    // without OPERATOR_ACTION_URL an action button cannot work: say so rather than pretend success
    if (press.kind === 'no-action-handler') throw new ConflictException('no action handler configured');
    if (press.kind === 'pending') return { link: null, pending: true };
    if (press.kind === 'action') return { link: null, ok: press.ok, message: press.message };
    return { link: press.link };
  }

  @Post('archive-all')
  @HttpCode(200)
  @ApiOperation({ summary: 'Archives every listed message, or those of one category; sends no status callbacks' })
  @ApiOkResponse({ type: ArchiveAllDto })
  @ApiBadRequestResponse({ description: 'category is malformed' })
  async archiveAll(@CurrentPlayer() player: Player, @Query() query: ArchiveAllQueryDto): Promise<ArchiveAllDto> {
    return { archived: await this.inbox.archiveAll(player, query.category ?? null) };
  }

  @Post('messages/:id/opened')
  @HttpCode(200)
  @ApiOperation({ summary: 'Marks the message opened (and read)' })
  @ApiOkResponse({ type: MessageViewDto })
  @ApiBadRequestResponse({ description: 'id is not a uuid' })
  @ApiNotFoundResponse({ description: 'not a message of this player' })
  opened(@CurrentPlayer() player: Player, @MessageIdParam() id: string): Promise<MessageView> {
    return this.found(this.inbox.act(player, id, 'open'));
  }

  @Post('messages/:id/clicked')
  @HttpCode(200)
  @ApiOperation({ summary: 'Marks the message clicked (and, if not yet, opened and read)' })
  @ApiOkResponse({ type: MessageViewDto })
  @ApiBadRequestResponse({ description: 'id is not a uuid' })
  @ApiNotFoundResponse({ description: 'not a message of this player' })
  clicked(@CurrentPlayer() player: Player, @MessageIdParam() id: string): Promise<MessageView> {
    return this.found(this.inbox.act(player, id, 'click'));
  }

  @Post('read-all')
  @HttpCode(200)
  @ApiOperation({ summary: 'Marks every message read; sends no status callbacks' })
  @ApiOkResponse({ type: ReadAllDto })
  async readAll(@CurrentPlayer() player: Player): Promise<ReadAllDto> {
    return { read: await this.inbox.readAll(player) };
  }

  @Delete('messages/:id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Archives the message (it leaves the inbox)' })
  @ApiNoContentResponse()
  @ApiBadRequestResponse({ description: 'id is not a uuid' })
  @ApiNotFoundResponse({ description: 'not a message of this player' })
  async archive(@CurrentPlayer() player: Player, @MessageIdParam() id: string): Promise<void> {
    await this.found(this.inbox.act(player, id, 'archive'));
  }

  private async found(pending: Promise<MessageView | null>): Promise<MessageView> {
    const view = await pending;
    if (view === null) throw new NotFoundException('message not found');
    return view;
  }
}
