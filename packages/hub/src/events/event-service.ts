import {envelopeSchema, HubMethods, HubTargets, invalid, toIssues, type Contract, type ContractRegistry, type Envelope, type EnvelopeOf, type PublishResult, type SubscribeResult, type TopicEvent, type ValidationIssue, type ValidationResult} from '@switchboard/contracts';
import type {Logger} from 'pino';
import {z} from 'zod';
import {HubError, type Hub} from '../hub/index.js';
import type {TopicLog} from '../log/topic-log.js';

/** What a topic name looks like: 1–128 characters of letters, digits, `.`, `_`, `-`, not starting with a symbol. */
export const TOPIC_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** The zod schema of a topic name, shared by the hub methods and the HTTP API. */
export const topicSchema = z.string().regex(TOPIC_PATTERN, 'must be 1-128 letters, digits, ".", "_" or "-"');

/** What a successful publish returns in process: the wire's {@link PublishResult}, and whether it was a duplicate. */
export interface PublishOutcome extends PublishResult {
  /** True when the envelope id was already retained: nothing new was appended or pushed. */
  readonly duplicate: boolean;
}

/** Events replayed to a subscriber per read of the log. */
const REPLAY_PAGE = 1000;

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

  constructor(options: EventServiceOptions) {
    this.#hub = options.hub;
    this.#log = options.log;
    this.#registry = options.registry;
    this.#logger = options.logger;
    this.#topics = options.topics ?? {};
    this.#defaultTopic = options.defaultTopic ?? {};
    this.#observer = options.observer ?? {};
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
  publishMany(topic: string, inputs: readonly unknown[]): ValidationResult<PublishOutcome[]> {
    const checked = inputs.map((input) => this.#check(topic, input));
    const issues: ValidationIssue[] = [];
    checked.forEach((r, i) => {
      if (!r.ok) for (const issue of r.issues) issues.push({...issue, path: `${i}${issue.path === '' ? '' : `.${issue.path}`}`});
    });
    if (issues.length > 0) {
      this.#observer.rejected?.(topic);
      return invalid(`${checked.filter((r) => !r.ok).length} of ${inputs.length} events are invalid`, issues);
    }
    return {ok: true, value: checked.map((r) => this.#append(topic, (r as {value: Envelope}).value))};
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
  publish(topic: string, input: unknown): ValidationResult<PublishOutcome> {
    const result = this.#check(topic, input);
    if (!result.ok) {
      this.#observer.rejected?.(topic);
      return result;
    }
    return {ok: true, value: this.#append(topic, result.value)};
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

  #append(topic: string, event: Envelope): PublishOutcome {
    const {offset, duplicate} = this.#log.append(topic, event);
    if (!duplicate) {
      const group = groupOf(topic);
      this.#hub.clients.group(group).send(HubTargets.event, {topic, offset, event} satisfies TopicEvent);
      this.#observer.published?.(topic, event.type);
      this.#observer.delivered?.(topic, this.#hub.groupSize(group));
      this.#logger.info({topic, offset, type: event.type, id: event.id, correlationId: event.correlationId}, 'event published');
      for (const listener of this.#appended) listener(topic, offset, event);
    }
    return {offset, duplicate};
  }

  #installHubMethods(): void {
    this.#hub
      .method(HubMethods.subscribe, {
        params: {topic: topicSchema, fromOffset: z.string().nullable()},
        handler: ({topic, fromOffset}, {hub, caller, clients}): SubscribeResult => {
          if (fromOffset !== null && !this.#log.isOffset(fromOffset)) throw new HubError(`"${fromOffset}" is not an offset of this hub.`);
          // Replay and join happen in one synchronous step: nothing can be appended in between,
          // so the client sees every event after fromOffset exactly once.
          let truncated = false;
          let replayed = 0;
          if (fromOffset !== null) {
            let after: string | null = fromOffset;
            for (;;) {
              const page = this.#log.read(topic, after, REPLAY_PAGE);
              truncated ||= page.truncated;
              for (const {offset, event} of page.entries) clients.caller.send(HubTargets.event, {topic, offset, event} satisfies TopicEvent);
              replayed += page.entries.length;
              if (page.entries.length < REPLAY_PAGE) break;
              after = page.next;
            }
          }
          hub.addToGroup(caller, groupOf(topic));
          if (fromOffset !== null) this.#observer.replayed?.(topic, replayed);
          return {topic, offset: this.#log.head(topic), truncated};
        },
      })
      .method(HubMethods.unsubscribe, {
        params: {topic: topicSchema},
        handler: ({topic}, {hub, caller}) => {
          hub.removeFromGroup(caller, groupOf(topic));
          return null;
        },
      })
      .method(HubMethods.publish, {
        params: {topic: topicSchema, envelope: z.unknown()},
        handler: ({topic, envelope}): PublishResult => {
          const result = this.publish(topic, envelope);
          if (!result.ok) throw new HubError(describe(result.error, result.issues));
          return {offset: result.value.offset};
        },
      })
      .method(HubMethods.command, {
        params: {envelope: z.unknown()},
        handler: ({envelope}) => this.command(envelope),
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
