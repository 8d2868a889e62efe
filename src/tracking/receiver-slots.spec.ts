import { ReceiverSlots } from './receiver-slots';

const CONCURRENCY = 8;
const CLAIM_BATCH = 50;

/** Starts sends for `receivers` in turn, as the dispatcher does: only while a slot for that receiver is free. */
function fill(sut: ReceiverSlots, receivers: string[], attempts = 1_000): Map<string, number> {
  const started = new Map<string, number>();
  for (let index = 0; index < attempts; index += 1) {
    const receiver = receivers[index % receivers.length];
    if (!sut.canStart || !sut.hasRoom(receiver)) continue;
    sut.take(receiver);
    started.set(receiver, (started.get(receiver) ?? 0) + 1);
  }
  return started;
}

describe('ReceiverSlots', () => {
  it('a receiver never holds more than CALLBACK_CONCURRENCY slots; the instance has a quarter more for the others', () => {
    const sut = new ReceiverSlots(CONCURRENCY, CLAIM_BATCH);
    const hanging = fill(sut, ['https://hangs.example']);
    const others = fill(sut, ['https://hangs.example', 'https://other.example']);
    expect(hanging.get('https://hangs.example')).toBe(CONCURRENCY);
    expect(others.get('https://hangs.example')).toBeUndefined();
    expect(others.get('https://other.example')).toBe(Math.ceil(CONCURRENCY / 4));
    expect(sut.inUse).toBe(CONCURRENCY + Math.ceil(CONCURRENCY / 4));
  });

  it('a single receiver still gets all CALLBACK_CONCURRENCY slots', () => {
    const sut = new ReceiverSlots(CONCURRENCY, CLAIM_BATCH);
    expect(fill(sut, ['https://one.example']).get('https://one.example')).toBe(CONCURRENCY);
  });

  it('a slot frees when its request ends, while its record is still to commit', () => {
    const sut = new ReceiverSlots(CONCURRENCY, CLAIM_BATCH);
    fill(sut, ['https://a.example', 'https://b.example']);
    expect(sut.canStart).toBe(false);
    sut.requestEnded('https://a.example', true);
    expect(sut.hasRoom('https://a.example')).toBe(true);
    expect(sut.canStart).toBe(true);
  });

  it('never more than CALLBACK_CONCURRENCY + 50 sent and unrecorded, however fast requests end', () => {
    const sut = new ReceiverSlots(CONCURRENCY, CLAIM_BATCH);
    let started = 0;
    for (let round = 0; round < 1_000 && sut.canStart; round += 1) {
      sut.take('https://fast.example');
      started += 1;
      sut.requestEnded('https://fast.example', true);
      expect(sut.unrecorded).toBeLessThanOrEqual(CONCURRENCY + CLAIM_BATCH);
    }
    expect(started).toBe(CONCURRENCY + CLAIM_BATCH);
    sut.recordSettled();
    expect(sut.canStart).toBe(true);
  });

  it('a send without a record to commit is not counted as unrecorded after its request', () => {
    const sut = new ReceiverSlots(CONCURRENCY, CLAIM_BATCH);
    sut.take('https://a.example');
    sut.requestEnded('https://a.example', false);
    expect(sut.unrecorded).toBe(0);
    expect(sut.inUse).toBe(0);
  });

  it('shares slots by origin; a URL that does not parse is a receiver of its own', () => {
    const sut = new ReceiverSlots(CONCURRENCY, CLAIM_BATCH);
    expect(sut.receiverOf('https://cb.example:8443/a?x=1')).toBe(sut.receiverOf('https://cb.example:8443/b'));
    expect(sut.receiverOf('https://cb.example:8443/a')).toBe('https://cb.example:8443');
    expect(sut.receiverOf('not a url')).toBe('invalid');
    expect(new ReceiverSlots(CONCURRENCY, CLAIM_BATCH).receiverOf('https://x.example/p')).toBe('https://x.example');
  });
});
