import {HubTargets, type Envelope, type TopicEvent} from '@switchboard/contracts';
import type {Audience} from '../backplane/index.js';
import type {Logger} from 'pino';
import type {Hub, HubConnection} from '../hub/index.js';
import {MessageType} from '../protocol/index.js';
import {positionOf, type AppendedEvent, type Position, type TopicLog} from '../log/async-topic-log.js';
import type {LogEntry} from '../log/topic-log.js';
import {SendBufferOverflowError} from '../transports/transport-connection.js';
import {SharedReads} from './shared-reads.js';

/** Events read from the log per page, with a turn of the event loop between pages (small pages keep timers on time under load). */
export const REPLAY_PAGE = 250;

/**
 * A replay sends while its connection holds fewer unsent bytes than this share of the connection's
 * bound, and waits for the client to read below it otherwise: a reading client is never cut mid-replay.
 */
export const REPLAY_LOW_WATER = 1 / 4;

/** Default of {@link TopicFeedsOptions.maxHeldDuringReplay}. */
export const DEFAULT_MAX_HELD_DURING_REPLAY = 10_000;

/** A connection replaying a topic: live events are held for it until its replay ends. */
interface Replaying {
  readonly connection: HubConnection;
  readonly buffer: LogEntry[];
  /** The held events passed the bound: the connection is being cut, the replay ends. */
  overflowed: boolean;
}

/** One topic as this process follows it for its local subscribers. */
interface Feed {
  /** The newest live event pushed to the topic's live members here. */
  last: Position | undefined;
  lastOffset: string | null;
  /** Connections still replaying, by id: excluded from live pushes, which are buffered for them. */
  readonly replaying: Map<string, Replaying>;
  /** Live members whose replay went past {@link last}: skipped until the live feed catches up. */
  readonly ahead: Map<string, Position>;
  /** While a gap in the live feed is read back from the log, later live events wait here. */
  recovering: boolean;
  readonly held: LogEntry[];
  /** Resolves, once the log carries the topic's appends here, with the function that stops that. */
  readonly following: Promise<(() => void) | undefined>;
}

/** How an offset relates to the position before it. */
type Step = 'next' | 'duplicate' | 'gap' | 'reset';

function step(last: Position | undefined, next: Position | undefined): Step {
  if (last === undefined || next === undefined) return 'next';
  if (last.epoch !== next.epoch) return 'reset';
  if (next.seq <= last.seq) return 'duplicate';
  return next.seq === last.seq + 1 ? 'next' : 'gap';
}

/** What a subscription's replay did. */
export interface Subscribed {
  readonly truncated: boolean;
  readonly replayed: number;
}

/** Options of {@link TopicFeeds}. */
export interface TopicFeedsOptions {
  readonly hub: Hub;
  readonly log: TopicLog;
  readonly logger: Logger;
  /** The hub group of a topic's subscribers. */
  readonly groupOf: (topic: string) => string;
  /** Called after each live push, with the number of connections it reached. */
  readonly delivered?: (topic: string, connections: number) => void;
  /**
   * Live events held for one replaying connection (a replay paced by a slow reader) past which the
   * connection is cut as a slow consumer; its reconnect resumes from its offset. Default 10,000.
   */
  readonly maxHeldDuringReplay?: number;
}

/**
 * Pushes a topic's events to this process's subscribers, exactly once each, in offset order, from
 * the log's feed of appended events (with Redis, events appended on another node arrive here too).
 * A topic is followed on the log while this process has a subscriber of it, so a process hears
 * only the topics it serves. Subscribing joins the live feed first and buffers it, replays
 * the log from the client's offset page by page (so 100,000 missed events never block the event
 * loop), then merges: drops what the replay already sent, reads on over a gap, and flushes.
 * Clients resubscribing together from one offset (those of a node that died) share their page reads.
 * A gap in the live feed itself (messages lost while the engine was unreachable) is read back
 * from the log before later events are pushed.
 */
export class TopicFeeds {
  readonly #o: TopicFeedsOptions;
  readonly #feeds = new Map<string, Feed>();
  /** Topics of the feeds here, by their hub group. */
  readonly #topics = new Map<string, string>();
  readonly #stop: () => void;
  readonly #maxHeld: number;
  /** Replay pages read once for every subscriber resubscribing from the same offset at once. */
  readonly #reads: SharedReads;

  constructor(options: TopicFeedsOptions) {
    this.#o = options;
    this.#reads = new SharedReads(options.log);
    this.#maxHeld = options.maxHeldDuringReplay ?? DEFAULT_MAX_HELD_DURING_REPLAY;
    const stopWatching = options.log.watch({
      topics: 'followed',
      appended: (e) => this.#live(e),
      resumed: () => {
        for (const [topic, feed] of this.#feeds) if (!feed.recovering && feed.lastOffset !== null) void this.#recover(topic, feed, []);
      },
    });
    // The last local subscriber of a topic gone: stop hearing the topic on this process.
    const stopPresence = options.hub.onGroupPresence((group, present) => {
      const topic = present ? undefined : this.#topics.get(group);
      if (topic !== undefined) this.#dropIfIdle(topic);
    });
    this.#stop = () => {
      stopWatching();
      stopPresence();
      for (const topic of [...this.#feeds.keys()]) this.#drop(topic);
    };
  }

  /** Stops following the log. */
  close(): void {
    this.#stop();
  }

  /**
   * Joins `connection` to `topic`: replays every retained event after `fromOffset` (none when
   * `null`), then pushes live events, with no gap and no duplicate in between. The replay goes
   * at the client's pace: while the connection holds more unsent bytes than {@link REPLAY_LOW_WATER}
   * of its bound, it waits for the client to read. Live events meanwhile are held, up to
   * `maxHeldDuringReplay`; past that the connection is cut as a slow consumer.
   */
  async subscribe(connection: HubConnection, topic: string, fromOffset: string | null): Promise<Subscribed> {
    const {hub, log, groupOf} = this.#o;
    const feed = this.#feed(topic);
    const me: Replaying = {connection, buffer: [], overflowed: false};
    const id = connection.connectionId;
    feed.replaying.set(id, me);
    const joinedAt = this.#reads.joined();
    feed.ahead.delete(id);
    const wasMember = connection.groups.has(groupOf(topic));
    hub.addToGroup(connection, groupOf(topic));
    let truncated = false;
    let replayed = 0;
    let after = fromOffset;
    let last = fromOffset === null ? undefined : positionOf(fromOffset);
    const raw = connection.protocol?.writeInvocationJson?.bind(connection.protocol);
    const topicJson = JSON.stringify(topic);
    const send = (entry: LogEntry): void => {
      if (raw !== undefined && entry.json !== undefined) {
        // The stored JSON goes out as it is: no parse, no re-serialization (most of a replay's cost).
        connection.sendSerialized(raw(HubTargets.event, eventArgumentsJson(topicJson, entry.offset, entry.json)), true);
      } else {
        connection.send({type: MessageType.Invocation, target: HubTargets.event, arguments: [{topic, offset: entry.offset, event: entry.event} satisfies TopicEvent]});
      }
      after = entry.offset;
      last = positionOf(entry.offset);
      replayed++;
    };
    const lowWater = Math.floor(connection.maxBufferedBytes * REPLAY_LOW_WATER);
    /** Waits until the client has read below the low-water mark; false once the replay must stop (closed, or cut). */
    const paced = async (): Promise<boolean> => {
      await connection.drained(lowWater);
      return connection.phase !== 'closed' && !me.overflowed;
    };
    try {
      // Live first: from here on the topic's appends reach this process (and are buffered for me).
      try {
        await feed.following;
      } catch (error) {
        // Not heard here (the engine is unreachable): the next subscribe tries anew.
        if (this.#feeds.get(topic) === feed) {
          this.#feeds.delete(topic);
          this.#topics.delete(groupOf(topic));
        }
        if (!wasMember) hub.removeFromGroup(connection, groupOf(topic));
        throw error;
      }
      if (fromOffset !== null) {
        for (;;) {
          const page = await this.#reads.read(topic, after, REPLAY_PAGE, joinedAt);
          truncated ||= page.truncated;
          let going = true;
          for (const entry of page.entries) {
            send(entry);
            if (connection.bufferedBytes >= lowWater && !(going = await paced())) break;
          }
          if (!going || page.entries.length < REPLAY_PAGE || connection.phase === 'closed' || me.overflowed) break;
          await nextTurn();
        }
      }
      if (!(await paced())) return {truncated, replayed};
      // Merge: the buffer holds every live event since joining; the replay covered the log up to
      // some point. Skip their overlap; if they do not meet (a live message was lost), read on.
      for (;;) {
        while (me.buffer.length > 0 && after !== null && step(last, positionOf(me.buffer[0]!.offset)) === 'duplicate') me.buffer.shift();
        const first = me.buffer[0];
        if (first === undefined || after === null || step(last, positionOf(first.offset)) !== 'gap') break;
        const page = await log.read(topic, after, REPLAY_PAGE);
        const fresh = page.entries.filter((e) => step(last, positionOf(e.offset)) !== 'duplicate');
        if (fresh.length === 0) {
          truncated = true;
          break;
        }
        for (const entry of fresh) {
          send(entry);
          if (connection.bufferedBytes >= lowWater && !(await paced())) return {truncated, replayed};
        }
      }
      // What was held, at the client's pace too (more may arrive meanwhile: the loop sees it).
      for (let i = 0; i < me.buffer.length; i++) {
        const entry = me.buffer[i]!;
        if (step(last, positionOf(entry.offset)) === 'duplicate') continue;
        send(entry);
        if (connection.bufferedBytes >= lowWater && !(await paced())) return {truncated, replayed};
      }
      me.buffer.length = 0;
      // Past what this process pushed live (its feed lags the log): skip what the feed brings late.
      if (last !== undefined && step(feed.last, last) !== 'duplicate') feed.ahead.set(id, last);
      return {truncated, replayed};
    } finally {
      if (feed.replaying.get(id) === me) feed.replaying.delete(id);
      this.#dropIfIdle(topic);
    }
  }

  #feed(topic: string): Feed {
    let feed = this.#feeds.get(topic);
    if (feed === undefined) {
      const follow = this.#o.log.follow?.(topic) ?? Promise.resolve(undefined);
      // A feed whose follow failed is dropped when its subscribe gives up; nobody else awaits it.
      follow.catch(() => undefined);
      feed = {last: undefined, lastOffset: null, replaying: new Map(), ahead: new Map(), recovering: false, held: [], following: follow};
      this.#feeds.set(topic, feed);
      this.#topics.set(this.#o.groupOf(topic), topic);
    }
    return feed;
  }

  /** Drops a topic's feed once nobody here replays or follows it. */
  #dropIfIdle(topic: string): void {
    const feed = this.#feeds.get(topic);
    if (feed !== undefined && feed.replaying.size === 0 && this.#o.hub.groupSize(this.#o.groupOf(topic)) === 0) this.#drop(topic);
  }

  #drop(topic: string): void {
    const feed = this.#feeds.get(topic);
    if (feed === undefined) return;
    this.#feeds.delete(topic);
    this.#topics.delete(this.#o.groupOf(topic));
    feed.following.then((release) => release?.(), () => undefined);
  }

  #live(appended: AppendedEvent): void {
    const {topic, offset} = appended;
    const feed = this.#feeds.get(topic);
    if (feed === undefined) return;
    if (feed.replaying.size === 0 && this.#o.hub.groupSize(this.#o.groupOf(topic)) === 0) {
      this.#drop(topic);
      return;
    }
    const entry = liveEntry(appended);
    if (feed.recovering) {
      feed.held.push(entry);
      return;
    }
    const s = step(feed.last, positionOf(offset));
    if (s === 'duplicate') return;
    if (s === 'gap') void this.#recover(topic, feed, [entry]);
    else this.#push(topic, feed, entry);
  }

  /** Reads what the live feed missed after `feed.last` from the log, pushes it, then what was held. */
  async #recover(topic: string, feed: Feed, held: LogEntry[]): Promise<void> {
    feed.recovering = true;
    feed.held.push(...held);
    try {
      let after = feed.lastOffset;
      for (;;) {
        const page = await this.#o.log.read(topic, after, REPLAY_PAGE);
        for (const entry of page.entries) if (step(feed.last, positionOf(entry.offset)) !== 'duplicate') this.#push(topic, feed, entry);
        after = page.next;
        if (page.entries.length < REPLAY_PAGE) break;
        await nextTurn();
      }
    } catch (error) {
      this.#o.logger.warn({err: error, topic}, 'could not read back events the live feed missed');
    } finally {
      feed.recovering = false;
      for (const entry of feed.held.splice(0)) if (step(feed.last, positionOf(entry.offset)) !== 'duplicate') this.#push(topic, feed, entry);
    }
  }

  /** Holds a live event for a replaying connection; past the bound, cuts the connection instead. */
  #hold(me: Replaying, entry: LogEntry): void {
    if (me.overflowed) return;
    if (me.buffer.length < this.#maxHeld) {
      me.buffer.push(entry);
      return;
    }
    me.overflowed = true;
    me.buffer.length = 0;
    const error = new SendBufferOverflowError(
      this.#maxHeld,
      this.#maxHeld + 1,
      `Closed a slow consumer: more than ${this.#maxHeld} live events arrived while its replay waited for it to read (option maxHeldDuringReplay); it resumes from its offset.`,
    );
    // Not from inside this push: the hub hears of the end on the next tick.
    queueMicrotask(() => me.connection.cutSlowConsumer(error));
  }

  #push(topic: string, feed: Feed, entry: LogEntry): void {
    const position = positionOf(entry.offset);
    feed.last = position;
    feed.lastOffset = entry.offset;
    const except: string[] = [...feed.replaying.keys()];
    for (const [id, reached] of feed.ahead) {
      if (step(reached, position) !== 'duplicate') feed.ahead.delete(id);
      else {
        except.push(id);
        if (position?.seq === reached.seq) feed.ahead.delete(id);
      }
    }
    for (const me of feed.replaying.values()) this.#hold(me, entry);
    const group = this.#o.groupOf(topic);
    const audience: Audience = except.length === 0 ? {kind: 'groups', names: [group]} : {kind: 'groups', names: [group], except};
    // The announced text goes to JSON clients as it is; the event is read (parsed, for an entry
    // from Redis) only if another protocol's client needs the object.
    const {json} = entry;
    const argumentsJson = json === undefined ? undefined : eventArgumentsJson(JSON.stringify(topic), entry.offset, json);
    const args: TopicEvent[] = [
      {
        topic,
        offset: entry.offset,
        get event() {
          return entry.event;
        },
      },
    ];
    this.#o.hub.sendLocal(audience, HubTargets.event, args, argumentsJson);
    this.#o.delivered?.(topic, this.#o.hub.groupSize(group) - except.length);
  }
}

/** Lets timers and I/O run before the next page. */
function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** The `event` invocation's arguments as JSON text, around an event's stored JSON (not parsed). */
function eventArgumentsJson(topicJson: string, offset: string, eventJson: string): string {
  return `[{"topic":${topicJson},"offset":${JSON.stringify(offset)},"event":${eventJson}}]`;
}

/**
 * A live event as a log entry: the event stays unparsed until read, and the text the log announced
 * (if any) rides along, not enumerable, as on entries read from the log.
 */
function liveEntry(appended: AppendedEvent): LogEntry {
  const entry = {
    offset: appended.offset,
    get event(): Envelope {
      return appended.event;
    },
  };
  return appended.json === undefined ? entry : Object.defineProperty(entry, 'json', {value: appended.json, enumerable: false});
}
