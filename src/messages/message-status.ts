import type { MessageRow } from './message.table';

// The migrations' CHECK constraints list the same values (src/database/table.spec.ts compares them).

/** Every event a message records, in funnel order (`expired` sets no column: expires_at says it). */
export const MESSAGE_EVENTS = [
  'delivered',
  'opened',
  'read',
  'clicked',
  'archived',
  'failed',
  'expired',
  'voided',
  'suppressed',
  'rejected',
  'actioned',
] as const;
export type MessageEvent = (typeof MESSAGE_EVENTS)[number];

export const EVENT_COLUMNS = {
  delivered: 'delivered_at',
  opened: 'opened_at',
  read: 'read_at',
  clicked: 'clicked_at',
  archived: 'archived_at',
  failed: 'failed_at',
  voided: 'voided_at',
  suppressed: 'suppressed_at',
} as const satisfies Partial<Record<MessageEvent, keyof MessageRow>>;

export type PlayerAction = 'deliver' | 'open' | 'click' | 'read' | 'archive';
type PlayerEvent = Exclude<keyof typeof EVENT_COLUMNS, 'failed' | 'voided' | 'suppressed'>;
export type StateColumn = (typeof EVENT_COLUMNS)[PlayerEvent];

// a click nobody saw open still means delivered, opened and read
export const ACTION_EVENTS: Record<PlayerAction, readonly PlayerEvent[]> = {
  deliver: ['delivered'],
  open: ['delivered', 'opened', 'read'],
  click: ['delivered', 'opened', 'read', 'clicked'],
  read: ['read'],
  archive: ['archived'],
};

export const FUNNEL_STATUSES = ['delivered', 'opened', 'clicked'] as const;
// only values from Smartico's list; `failed` and `rejected` (a suppression kept it from the player) are outside the funnel
export const CALLBACK_STATUSES = [...FUNNEL_STATUSES, 'failed', 'rejected'] as const;
export type CallbackStatus = (typeof CALLBACK_STATUSES)[number];

export function isCallbackStatus(value: string): value is CallbackStatus {
  return (CALLBACK_STATUSES as readonly string[]).includes(value);
}

export function funnelRank(status: CallbackStatus): number {
  return status === 'failed' || status === 'rejected' ? 1 : FUNNEL_STATUSES.indexOf(status) + 1;
}

export const FURTHEST_STATUSES = ['accepted', ...CALLBACK_STATUSES] as const;
export type FurthestStatus = (typeof FURTHEST_STATUSES)[number];

export const TIMELINE_EVENTS = ['accepted', ...MESSAGE_EVENTS] as const;

const FURTHEST_FIRST = [...[...FUNNEL_STATUSES].reverse(), 'failed'] as const;

// migration 1763820000000 indexes exactly this expression: the planner matches indexes by expression
export const FURTHEST_STATUS_SQL = `(CASE ${FURTHEST_FIRST.map((status) => `WHEN ${EVENT_COLUMNS[status]} IS NOT NULL THEN '${status}'`).join('\n  ')}
  ELSE 'accepted' END)`;

export const CALLBACK_STATUS_LIST_SQL = `(${CALLBACK_STATUSES.map((status) => `'${status}'`).join(', ')})`;

export const funnelRankSql = (expression: string): string =>
  `CASE ${expression} ${CALLBACK_STATUSES.map((status) => `WHEN '${status}' THEN ${funnelRank(status)}`).join(' ')} END`;
