import type { MessageRow } from './message.table';

/**
 * The status vocabulary: what a message records, what Smartico hears, what support searches by,
 * and the SQL made from them. The CHECK constraints of the migrations list the same values.
 */

/** Every event a message records, in funnel order (`expired` sets no column: expires_at says it). */
export const MESSAGE_EVENTS = ['delivered', 'opened', 'read', 'clicked', 'archived', 'failed', 'expired'] as const;
export type MessageEvent = (typeof MESSAGE_EVENTS)[number];

/** The timestamp each event sets. */
export const EVENT_COLUMNS = {
  delivered: 'delivered_at',
  opened: 'opened_at',
  read: 'read_at',
  clicked: 'clicked_at',
  archived: 'archived_at',
  failed: 'failed_at',
} as const satisfies Partial<Record<MessageEvent, keyof MessageRow>>;

/** What a player (or their client) can do to a message. */
export type PlayerAction = 'deliver' | 'open' | 'click' | 'read' | 'archive';
type PlayerEvent = Exclude<keyof typeof EVENT_COLUMNS, 'failed'>;
/** The timestamps players' actions set. */
export type StateColumn = (typeof EVENT_COLUMNS)[PlayerEvent];

/** The events an action records, in order: a click nobody saw open still means delivered, opened and read. */
export const ACTION_EVENTS: Record<PlayerAction, readonly PlayerEvent[]> = {
  deliver: ['delivered'],
  open: ['delivered', 'opened', 'read'],
  click: ['delivered', 'opened', 'read', 'clicked'],
  read: ['read'],
  archive: ['archived'],
};

/** Smartico's funnel in the order a player reaches it; a later status implies the earlier ones. */
export const FUNNEL_STATUSES = ['delivered', 'opened', 'clicked'] as const;
/** The statuses we report: only values from Smartico's list, `failed` outside the funnel. */
export const CALLBACK_STATUSES = [...FUNNEL_STATUSES, 'failed'] as const;
export type CallbackStatus = (typeof CALLBACK_STATUSES)[number];

export function isCallbackStatus(value: string): value is CallbackStatus {
  return (CALLBACK_STATUSES as readonly string[]).includes(value);
}

/** A callback waits while one of a lower rank of its message is pending; `failed` waits for none. */
export function funnelRank(status: CallbackStatus): number {
  return status === 'failed' ? 1 : FUNNEL_STATUSES.indexOf(status) + 1;
}

/** Support's status of a message: the furthest it got, `accepted` when nothing happened yet. */
export const FURTHEST_STATUSES = ['accepted', ...CALLBACK_STATUSES] as const;
export type FurthestStatus = (typeof FURTHEST_STATUSES)[number];

/** Support's timeline: acceptance, then each recorded event. */
export const TIMELINE_EVENTS = ['accepted', ...MESSAGE_EVENTS] as const;

const FURTHEST_FIRST = [...[...FUNNEL_STATUSES].reverse(), 'failed'] as const;

/**
 * The furthest status of a messages row. Migration 1763820000000 indexes exactly this expression
 * (with created_at, id) and the planner matches indexes by expression, so it must stay identical.
 */
export const FURTHEST_STATUS_SQL = `(CASE ${FURTHEST_FIRST.map((status) => `WHEN ${EVENT_COLUMNS[status]} IS NOT NULL THEN '${status}'`).join('\n  ')}
  ELSE 'accepted' END)`;

/** `('delivered', 'opened', …)`: the events that become callbacks. */
export const CALLBACK_STATUS_LIST_SQL = `(${CALLBACK_STATUSES.map((status) => `'${status}'`).join(', ')})`;

/** The funnel rank of the callback status in `expression`. */
export const funnelRankSql = (expression: string): string =>
  `CASE ${expression} ${CALLBACK_STATUSES.map((status) => `WHEN '${status}' THEN ${funnelRank(status)}`).join(' ')} END`;
