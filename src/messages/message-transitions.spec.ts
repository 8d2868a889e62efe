import { MessageState, planTransition } from './message-transitions';

const fresh: MessageState = { delivered_at: null, opened_at: null, clicked_at: null, read_at: null, archived_at: null };
const at = new Date('2030-01-01T00:00:00Z');

describe('planTransition', () => {
  it('delivers once', () => {
    expect(planTransition(fresh, 'deliver')).toEqual({ set: ['delivered_at'], events: ['delivered'] });
    expect(planTransition({ ...fresh, delivered_at: at }, 'deliver')).toEqual({ set: [], events: [] });
  });

  it('opening implies delivery and reading', () => {
    expect(planTransition(fresh, 'open')).toEqual({ set: ['delivered_at', 'opened_at', 'read_at'], events: ['delivered', 'opened', 'read'] });
    expect(planTransition({ ...fresh, delivered_at: at, read_at: at }, 'open')).toEqual({ set: ['opened_at'], events: ['opened'] });
  });

  it('a click with no open first implies delivered, opened and read, in funnel order', () => {
    expect(planTransition(fresh, 'click').events).toEqual(['delivered', 'opened', 'read', 'clicked']);
    expect(planTransition({ ...fresh, delivered_at: at, opened_at: at, read_at: at }, 'click')).toEqual({ set: ['clicked_at'], events: ['clicked'] });
  });

  it('repeats change nothing', () => {
    const done: MessageState = { delivered_at: at, opened_at: at, clicked_at: at, read_at: at, archived_at: at };
    for (const action of ['deliver', 'open', 'click', 'read', 'archive'] as const) {
      expect(planTransition(done, action)).toEqual({ set: [], events: [] });
    }
  });

  it('reading and archiving touch only their own column', () => {
    expect(planTransition(fresh, 'read')).toEqual({ set: ['read_at'], events: ['read'] });
    expect(planTransition(fresh, 'archive')).toEqual({ set: ['archived_at'], events: ['archived'] });
  });
});
