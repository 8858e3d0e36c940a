import {invalid, type ContractRegistry, type ValidationResult} from '@switchboard/contracts';
import type {Logger} from 'pino';
import {z} from 'zod';
import {HubError, type Hub} from '../hub';
import type {TopicLog} from '../log/topic-log';

/** What a topic name looks like: 1–128 characters of letters, digits, `.`, `_`, `-`, not starting with a symbol. */
export const TOPIC_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** The zod schema of a topic name, shared by the hub methods and the HTTP API. */
export const topicSchema = z.string().regex(TOPIC_PATTERN, 'must be 1-128 letters, digits, ".", "_" or "-"');

/** What `subscribe` returns (ARCHITECTURE.md §5). */
export interface SubscribeResult {
  readonly topic: string;
  readonly offset: string | null;
  readonly truncated: boolean;
}

/** What a successful publish returns. */
export interface PublishResult {
  readonly offset: string;
  /** True when the envelope id was already retained: nothing new was appended or pushed. */
  readonly duplicate: boolean;
}

/** Events replayed to a subscriber per read of the log. */
const REPLAY_PAGE = 1000;

/**
 * Switchboard's event topics on top of a hub: publish validates an envelope against the contracts,
 * appends it to the topic's log and pushes `event {topic, offset, event}` to the topic's group;
 * subscribe replays what a client missed, then joins it to the group.
 */
export class EventService {
  readonly #hub: Hub;
  readonly #log: TopicLog;
  readonly #registry: ContractRegistry;
  readonly #logger: Logger;

  constructor(options: {hub: Hub; log: TopicLog; registry: ContractRegistry; logger: Logger}) {
    this.#hub = options.hub;
    this.#log = options.log;
    this.#registry = options.registry;
    this.#logger = options.logger;
    this.#installHubMethods();
  }

  /** The log behind the topics. */
  get log(): TopicLog {
    return this.#log;
  }

  /**
   * Validates `input` as an envelope of a registered contract, appends it to `topic` and pushes it
   * to the topic's subscribers. Invalid input changes nothing. Publishing an envelope id already
   * retained returns its original offset and pushes nothing.
   */
  publish(topic: string, input: unknown): ValidationResult<PublishResult> {
    if (!TOPIC_PATTERN.test(topic)) return invalid('invalid topic', [{path: 'topic', message: `"${topic}" is not a valid topic name`}]);
    const result = this.#registry.validate(input);
    if (!result.ok) return result;
    const event = result.value;
    const {offset, duplicate} = this.#log.append(topic, event);
    if (!duplicate) {
      this.#hub.clients.group(groupOf(topic)).send('event', {topic, offset, event});
      this.#logger.info({topic, offset, type: event.type, id: event.id, correlationId: event.correlationId}, 'event published');
    }
    return {ok: true, value: {offset, duplicate}};
  }

  #installHubMethods(): void {
    this.#hub
      .method('subscribe', {
        params: {topic: topicSchema, fromOffset: z.string().nullable()},
        handler: ({topic, fromOffset}, {hub, caller, clients}): SubscribeResult => {
          if (fromOffset !== null && !this.#log.isOffset(fromOffset)) throw new HubError(`"${fromOffset}" is not an offset of this hub.`);
          // Replay and join happen in one synchronous step: nothing can be appended in between,
          // so the client sees every event after fromOffset exactly once.
          let truncated = false;
          if (fromOffset !== null) {
            let after: string | null = fromOffset;
            for (;;) {
              const page = this.#log.read(topic, after, REPLAY_PAGE);
              truncated ||= page.truncated;
              for (const {offset, event} of page.entries) clients.caller.send('event', {topic, offset, event});
              if (page.entries.length < REPLAY_PAGE) break;
              after = page.next;
            }
          }
          hub.addToGroup(caller, groupOf(topic));
          return {topic, offset: this.#log.head(topic), truncated};
        },
      })
      .method('unsubscribe', {
        params: {topic: topicSchema},
        handler: ({topic}, {hub, caller}) => {
          hub.removeFromGroup(caller, groupOf(topic));
          return null;
        },
      })
      .method('publish', {
        params: {topic: topicSchema, envelope: z.unknown()},
        handler: ({topic, envelope}): {offset: string} => {
          const result = this.publish(topic, envelope);
          if (!result.ok) throw new HubError(describe(result.error, result.issues));
          return {offset: result.value.offset};
        },
      });
  }
}

function groupOf(topic: string): string {
  return `topic:${topic}`;
}

function describe(error: string, issues: readonly {path: string; message: string}[]): string {
  const rest = issues.slice(1, 5).map((i) => `${i.path}: ${i.message}`);
  return rest.length === 0 ? error : `${error}; ${rest.join('; ')}`;
}
