import type { MessageView } from '../messages/message.view';
import { playerKey, PlayerRef } from '../messages/player-ref';
import type { Player } from './player-auth.service';
import type { UnreadBadge } from './unread-badges';

export const INBOX_NAMESPACE = '/inbox';

export type ActionReply = { ok: true } | { ok: false; error: string };

export interface ServerToClientEvents {
  /** a message to show; the client's ack marks it delivered */
  message: (view: MessageView, ack: () => void) => void;
  /** `as_of` (µs, the database's clock) orders counts sent by different instances */
  unread: (payload: UnreadBadge) => void;
  /** a message changed state elsewhere (another tab, the REST API, expiry) */
  update: (view: MessageView) => void;
  /** the operator took the message back (SPEC v2 §7): remove it from the screen, popup included */
  void: (payload: VoidNotice) => void;
}

export interface VoidNotice {
  id: string;
  reason: string;
}

export interface ClientToServerEvents {
  opened: (payload: { id: string }, ack: (reply: ActionReply) => void) => void;
  clicked: (payload: { id: string }, ack: (reply: ActionReply) => void) => void;
  archive: (payload: { id: string }, ack: (reply: ActionReply) => void) => void;
  star: (payload: { id: string }, ack: (reply: ActionReply) => void) => void;
  unstar: (payload: { id: string }, ack: (reply: ActionReply) => void) => void;
}

/** Between app instances, through the socket.io adapter (PostgreSQL NOTIFY or Redis pub/sub). */
export interface InterServerEvents {
  accepted: (items: AcceptedItem[]) => void;
}

export interface AcceptedItem {
  id: string;
  /** playerKey() of the message's player */
  player: string;
  /** the row as accepted (JSON: timestamps as strings), when it travels with the announcement */
  row?: Record<string, unknown>;
}

export interface SocketData {
  player: Player;
}

export const playerRoom = (player: PlayerRef): string => `player:${playerKey(player)}`;
