import type { MessageRow } from './message.table';
import { ACTION_EVENTS, EVENT_COLUMNS, MessageEvent, PlayerAction, StateColumn } from './message-status';

export type MessageState = Pick<MessageRow, StateColumn>;

export interface Transition {
  /** columns to set to `now` (only those still null) */
  set: StateColumn[];
  /** events to record, in order */
  events: MessageEvent[];
}

/** Pure: what `action` changes on a message in `state`. Timestamps only ever go from null to set. */
export function planTransition(state: MessageState, action: PlayerAction): Transition {
  const steps = ACTION_EVENTS[action].filter((event) => state[EVENT_COLUMNS[event]] === null);
  return { set: steps.map((event) => EVENT_COLUMNS[event]), events: [...steps] };
}
