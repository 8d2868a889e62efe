/** What a player (or their client) can do to a message. */
export type PlayerAction = 'deliver' | 'open' | 'click' | 'read' | 'archive';

export type MessageEvent = 'delivered' | 'opened' | 'clicked' | 'read' | 'archived' | 'failed' | 'expired';

export interface MessageState {
  delivered_at: Date | null;
  opened_at: Date | null;
  clicked_at: Date | null;
  read_at: Date | null;
  archived_at: Date | null;
}

export type StateColumn = keyof MessageState;

/**
 * The timestamps an action sets, in funnel order. Later steps imply earlier ones: a click on a
 * message nobody saw open still means it was delivered, opened and read.
 */
const IMPLIED: Record<PlayerAction, Array<[StateColumn, MessageEvent]>> = {
  deliver: [['delivered_at', 'delivered']],
  open: [
    ['delivered_at', 'delivered'],
    ['opened_at', 'opened'],
    ['read_at', 'read'],
  ],
  click: [
    ['delivered_at', 'delivered'],
    ['opened_at', 'opened'],
    ['read_at', 'read'],
    ['clicked_at', 'clicked'],
  ],
  read: [['read_at', 'read']],
  archive: [['archived_at', 'archived']],
};

export interface Transition {
  /** columns to set to `now` (only those still null) */
  set: StateColumn[];
  /** events to record, in order */
  events: MessageEvent[];
}

/** Pure: what `action` changes on a message in `state`. Timestamps only ever go from null to set. */
export function planTransition(state: MessageState, action: PlayerAction): Transition {
  const steps = IMPLIED[action].filter(([column]) => state[column] === null);
  return { set: steps.map(([column]) => column), events: steps.map(([, event]) => event) };
}
