import {envelopeSchema, invalid, toIssues, type Contract, type ContractRegistry, type Envelope, type EnvelopeOf, type ValidationIssue, type ValidationResult} from '@switchboard/contracts';
import type {Logger} from 'pino';
import {z} from 'zod';
import {HubError, type Hub} from '../hub/index.js';
import {TopicLogUnavailableError, type TopicLog} from '../log/async-topic-log.js';
import {TopicFeeds} from './topic-feeds.js';

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

/** How a topic treats envelopes of types no contract describes. */
export interface TopicPolicy {
  /** `reject` (default): refuse them; `accept`: store and push them after checking the envelope only. */
  readonly unknownTypes?: 'accept' | 'reject';
}

/** What the event service reports, for metrics. */
export interface EventObserver {
  published?(topic: string, type: string): void;
  rejected?(topic: string): void;
  delivered?(topic: string, connections: number): void;
  replayed?(topic: string, events: number): void;
}

/** A server-side command handler; throw `HubError` to reject the command with a message. */
export type CommandHandler<C extends Contract = Contract> = (command: EnvelopeOf<C>) => unknown;

/** Options of {@link EventService}. */
export interface EventServiceOptions {
  readonly hub: Hub;
  readonly log: TopicLog;
  readonly registry: ContractRegistry;
  readonly logger: Logger;
  /** Policies by topic name; topics not listed get `defaultTopic`. */
  readonly topics?: Readonly<Record<string, TopicPolicy>>;
  readonly defaultTopic?: TopicPolicy;
  readonly observer?: EventObserver;
}

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
  readonly #topics: Readonly<Record<string, TopicPolicy>>;
  readonly #defaultTopic: TopicPolicy;
  readonly #observer: EventObserver;
  readonly #commands = new Map<string, CommandHandler>();
  readonly #appended = new Set<(topic: string, offset: string, event: Envelope) => void>();
  readonly #feeds: TopicFeeds;

  constructor(options: EventServiceOptions) {
    this.#hub = options.hub;
    this.#log = options.log;
    this.#registry = options.registry;
    this.#logger = options.logger;
    this.#topics = options.topics ?? {};
    this.#defaultTopic = options.defaultTopic ?? {};
    this.#observer = options.observer ?? {};
    this.#feeds = new TopicFeeds({
      hub: this.#hub,
      log: this.#log,
      logger: this.#logger,
      groupOf,
      delivered: (topic, n) => this.#observer.delivered?.(topic, n),
    });
    this.#installHubMethods();
  }

  /** Calls `listener` with every event appended to any topic (not for duplicates); returns a function that stops it. */
  onAppended(listener: (topic: string, offset: string, event: Envelope) => void): () => void {
    this.#appended.add(listener);
    return () => this.#appended.delete(listener);
  }

  /** The contracts incoming envelopes are validated against. */
  get registry(): ContractRegistry {
    return this.#registry;
  }

  /**
   * Registers the one server handler of a command; the hub's `command(envelope)` calls it and
   * answers with its result. Throws if the command has a handler already.
   */
  handle<C extends Contract>(command: C, handler: CommandHandler<C>): () => void {
    if (command.kind !== 'command') throw new TypeError(`"${command.type}" is an event, not a command`);
    if (this.#commands.has(command.type)) throw new Error(`"${command.type}" already has a handler`);
    this.#registry.register(command);
    this.#commands.set(command.type, handler as CommandHandler);
    return () => this.#commands.delete(command.type);
  }

  /** Validates a command envelope and runs its handler; a refusal throws `HubError` with the reason. */
  async command(input: unknown): Promise<unknown> {
    const result = this.#registry.validate(input);
    if (!result.ok) throw new HubError(describe(result.error, result.issues));
    const envelope = result.value;
    const contract = this.#registry.get(envelope.type, envelope.version);
    if (contract?.kind !== 'command') throw new HubError(`"${envelope.type}" is not a command.`);
    const handler = this.#commands.get(envelope.type);
    if (handler === undefined) throw new HubError(`No handler for command "${envelope.type}".`);
    this.#logger.info({type: envelope.type, id: envelope.id, correlationId: envelope.correlationId}, 'command received');
    return handler(envelope);
  }

  /**
   * Validates every input, then appends them all in order, or none: a batch with one invalid
   * envelope changes nothing and reports the issues of each bad one by index.
   */
  async publishMany(topic: string, inputs: readonly unknown[]): Promise<ValidationResult<PublishResult[]>> {
    const checked = inputs.map((input) => this.#check(topic, input));
    const issues: ValidationIssue[] = [];
    checked.forEach((r, i) => {
      if (!r.ok) for (const issue of r.issues) issues.push({...issue, path: `${i}${issue.path === '' ? '' : `.${issue.path}`}`});
    });
    if (issues.length > 0) {
      this.#observer.rejected?.(topic);
      return invalid(`${checked.filter((r) => !r.ok).length} of ${inputs.length} events are invalid`, issues);
    }
    const value: PublishResult[] = [];
    for (const r of checked) value.push(await this.#append(topic, (r as {value: Envelope}).value));
    return {ok: true, value};
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
  async publish(topic: string, input: unknown): Promise<ValidationResult<PublishResult>> {
    const result = this.#check(topic, input);
    if (!result.ok) {
      this.#observer.rejected?.(topic);
      return result;
    }
    return {ok: true, value: await this.#append(topic, result.value)};
  }

  /** Validates one input for `topic`: against its contract, or (where the topic accepts unknown types) as an envelope. */
  #check(topic: string, input: unknown): ValidationResult<Envelope> {
    if (!TOPIC_PATTERN.test(topic)) return invalid('invalid topic', [{path: 'topic', message: `"${topic}" is not a valid topic name`}]);
    const result = this.#registry.validate(input);
    if (result.ok || result.issues[0]?.code !== 'unknown_type') return result;
    if ((this.#topics[topic] ?? this.#defaultTopic).unknownTypes !== 'accept') return result;
    const head = envelopeSchema.safeParse(input);
    return head.success ? {ok: true, value: head.data as Envelope} : invalid('invalid envelope', toIssues(head.error));
  }

  /** Appends to the log; the log's feed pushes the event to subscribers on every hub process. */
  async #append(topic: string, event: Envelope): Promise<PublishResult> {
    const {offset, duplicate} = await this.#log.append(topic, event);
    if (!duplicate) {
      this.#observer.published?.(topic, event.type);
      this.#logger.info({topic, offset, type: event.type, id: event.id, correlationId: event.correlationId}, 'event published');
      for (const listener of this.#appended) listener(topic, offset, event);
    }
    return {offset, duplicate};
  }

  /** Stops following the log's feed. */
  close(): void {
    this.#feeds.close();
  }

  #installHubMethods(): void {
    this.#hub
      .method('subscribe', {
        params: {topic: topicSchema, fromOffset: z.string().nullable()},
        handler: async ({topic, fromOffset}, {caller}): Promise<SubscribeResult> => {
          if (fromOffset !== null && !this.#log.isOffset(fromOffset)) throw new HubError(`"${fromOffset}" is not an offset of this hub.`);
          const {truncated, replayed} = await unavailableAsHubError(this.#feeds.subscribe(caller, topic, fromOffset));
          if (fromOffset !== null) this.#observer.replayed?.(topic, replayed);
          return {topic, offset: await unavailableAsHubError(this.#log.head(topic)), truncated};
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
        handler: async ({topic, envelope}): Promise<{offset: string}> => {
          const result = await unavailableAsHubError(this.publish(topic, envelope));
          if (!result.ok) throw new HubError(describe(result.error, result.issues));
          return {offset: result.value.offset};
        },
      })
      .method('command', {
        params: {envelope: z.unknown()},
        handler: ({envelope}) => this.command(envelope),
      });
  }
}

/** A refusal the caller can act on when the engine is down: nothing was stored, so retrying is safe. */
async function unavailableAsHubError<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (error) {
    if (error instanceof TopicLogUnavailableError) throw new HubError(`The event store is unavailable (${error.message}); nothing was done. Try again.`);
    throw error;
  }
}

function groupOf(topic: string): string {
  return `topic:${topic}`;
}

function describe(error: string, issues: readonly {path: string; message: string}[]): string {
  const rest = issues.slice(1, 5).map((i) => `${i.path}: ${i.message}`);
  return rest.length === 0 ? error : `${error}; ${rest.join('; ')}`;
}
