import { Column, Entity, PrimaryColumn } from 'typeorm';

import type { MessageDisplay, MessagePriority } from './message-fields';

/** One Custom IM as Smartico sent it, with what the player did with it. */
@Entity('messages')
export class MessageEntity {
  @PrimaryColumn('uuid')
  id!: string;

  @Column('text', { name: 'gateway_id' })
  gatewayId!: string;

  @Column('text', { name: 'im_uid' })
  imUid!: string;

  @Column('text', { name: 'ext_user_id' })
  extUserId!: string;

  @Column('text')
  body!: string;

  @Column('text', { name: 'callback_url' })
  callbackUrl!: string;

  @Column('jsonb', { nullable: true })
  extension!: Record<string, unknown> | null;

  @Column('text', { default: 'both' })
  display!: MessageDisplay;

  @Column('text', { default: 'normal' })
  priority!: MessagePriority;

  @Column('text', { nullable: true })
  category!: string | null;

  @Column('timestamptz', { name: 'expires_at', nullable: true })
  expiresAt!: Date | null;

  @Column('timestamptz', { name: 'created_at', default: () => 'now()' })
  createdAt!: Date;

  @Column('timestamptz', { name: 'delivered_at', nullable: true })
  deliveredAt!: Date | null;

  @Column('timestamptz', { name: 'opened_at', nullable: true })
  openedAt!: Date | null;

  @Column('timestamptz', { name: 'clicked_at', nullable: true })
  clickedAt!: Date | null;

  @Column('timestamptz', { name: 'read_at', nullable: true })
  readAt!: Date | null;

  @Column('timestamptz', { name: 'archived_at', nullable: true })
  archivedAt!: Date | null;

  @Column('timestamptz', { name: 'failed_at', nullable: true })
  failedAt!: Date | null;
}
