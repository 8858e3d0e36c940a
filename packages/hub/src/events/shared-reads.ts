import type {TopicLog} from '../log/async-topic-log.js';
import type {ReadResult} from '../log/topic-log.js';

/** One page being read (`running`) and the one that will follow it for late joiners (`queued`). */
interface Slot {
  running?: {readonly startedAt: number; readonly result: Promise<ReadResult>};
  queued?: Promise<ReadResult>;
}

/**
 * Replay reads shared by subscribers: when a node dies, every client it served resubscribes
 * elsewhere at once, mostly from the same offset, and one log read (one Redis round trip and one
 * reply to parse) then serves them all instead of one each.
 *
 * A subscriber shares only a read that started after it joined the live feed: its merge trusts the
 * replay to hold everything appended before it joined (later appends reach it live). One who joined
 * after a read started waits for the next read of the same page, which starts when the running one
 * ends and serves everyone who queued meanwhile: at most one read of a page runs at a time.
 */
export class SharedReads {
  readonly #log: TopicLog;
  readonly #slots = new Map<string, Slot>();
  #clock = 0;

  constructor(log: TopicLog) {
    this.#log = log;
  }

  /** Stamps a subscriber that has just joined the live feed; pass the stamp to {@link read}. */
  joined(): number {
    return ++this.#clock;
  }

  /** The log's page of `topic` after `after`, from a read that started after `joinedAt`. */
  read(topic: string, after: string | null, limit: number, joinedAt: number): Promise<ReadResult> {
    const key = JSON.stringify([topic, after, limit]);
    let slot = this.#slots.get(key);
    if (slot === undefined) this.#slots.set(key, (slot = {}));
    const {running} = slot;
    if (running === undefined) return this.#start(key, slot, topic, after, limit);
    if (running.startedAt > joinedAt) return running.result;
    const s = slot;
    s.queued ??= running.result.then(
      () => undefined,
      () => undefined,
    ).then(() => {
      s.queued = undefined;
      return this.#start(key, s, topic, after, limit);
    });
    return s.queued;
  }

  #start(key: string, slot: Slot, topic: string, after: string | null, limit: number): Promise<ReadResult> {
    const result = this.#log.read(topic, after, limit);
    const running = {startedAt: ++this.#clock, result};
    slot.running = running;
    this.#slots.set(key, slot);
    const settled = (): void => {
      if (slot.running === running) slot.running = undefined;
      if (slot.running === undefined && slot.queued === undefined && this.#slots.get(key) === slot) this.#slots.delete(key);
    };
    result.then(settled, settled);
    return result;
  }
}
