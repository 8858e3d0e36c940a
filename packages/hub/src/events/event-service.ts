import {envelopeSchema, HubMethods, invalid, toIssues, type Contract, type ContractRegistry, type Envelope, type EnvelopeOf, type PublishResult, type SubscribeResult, type ValidationResult} from '@switchboard/contracts';
import type {Logger} from 'pino';
import {z} from 'zod';
import {clientAppender, SERVER, type Appender} from '../auth/appender.js';
import {TopicAuthorizer, type Decision, type TopicPolicy} from '../auth/topic-policy.js';
import {HubError, type Hub} from '../hub/index.js';
import {DEFAULT_MAX_AGE_MS, TopicLimitError} from '../log/topic-log.js';
import {DEFAULT_TOPICS_PER_CLIENT, TopicBudget} from './topic-budget.js';
import {RateLimiter, RateLimitError, type RateLimitOptions} from '../limits/rate-limiter.js';
import {IssueList} from './issue-list.js';
import {TopicLogUnavailableError, type TopicLog} from '../log/async-topic-log.js';
import type {Principal} from '../transports/authenticator.js';
import {TopicFeeds} from './topic-feeds.js';

export type {TopicPolicy} from '../auth/topic-policy.js';

/**
 * What a topic name looks like: 1–128 characters of letters, digits, `.`, `_`, `-`, `:`, not
 * starting with a symbol. `:` separates a user-limited topic from its owner, e.g. `orders:user-alice`.
 */
export const TOPIC_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

/** The zod schema of a topic name, shared by the hub methods and the HTTP API. */
export const topicSchema = z.string().regex(TOPIC_PATTERN, 'must be 1-128 letters, digits, ".", "_", ":" or "-"');

/** The issue code of a publish a policy refused (HTTP answers 403 rather than 400). */
export const FORBIDDEN = 'forbidden';

/** Listens to appended events; `appender` says who appended each (the server, or which client). */
export type AppendedListener = (topic: string, offset: string, event: Envelope, appender: Appender) => void;

/** What a successful publish returns in process: the wire's {@link PublishResult}, and whether it was a duplicate. */
export interface PublishOutcome extends PublishResult {
  /** True when the envelope id was already retained: nothing new was appended or pushed. */
  readonly duplicate: boolean;
}


/** What the event service reports, for metrics. */
export interface EventObserver {
  published?(topic: string, type: string): void;
  rejected?(topic: string): void;
  delivered?(topic: string, connections: number): void;
  replayed?(topic: string, events: number): void;
}

/** A server-side command handler; throw `HubError` to reject the command with a message. */
export type CommandHandler<C extends Contract = Contract> = (command: EnvelopeOf<C>, sender: CommandSender) => unknown;

/** Who sent a command: the hub connection's principal (undefined: anonymous, or server code). */
export interface CommandSender {
  readonly principal: Principal | undefined;
}

/** Options of {@link EventService}. */
export interface EventServiceOptions {
  readonly hub: Hub;
  readonly log: TopicLog;
  readonly registry: ContractRegistry;
  readonly logger: Logger;
  /**
   * Policies by topic: exact names, globs (`audit.*`) or user-limited patterns (`orders:user-{sub}`);
   * topics not matched get `defaultTopic`. Without any, every client may subscribe and publish
   * every registered event type (never commands, never `serverOwned` types).
   */
  readonly topics?: Readonly<Record<string, TopicPolicy>>;
  readonly defaultTopic?: TopicPolicy;
  /** Event types (globs such as `payment.*`) only server code appends, on every topic. */
  readonly serverOwned?: readonly string[];
  readonly observer?: EventObserver;
  /** Topics one connection may be subscribed to at once; default 100. */
  readonly maxSubscriptionsPerConnection?: number;
  /** Live events held for a connection whose replay waits for it to read, past which it is cut as a slow consumer; default 10,000. */
  readonly maxHeldDuringReplay?: number;
  /**
   * Topics one client may create (a principal by user id, an anonymous client by remote address);
   * a token's `topicQuota` claim overrides it. Past it, a publish that would create a topic is
   * refused (code {@link TOPIC_LIMIT}, HTTP 429). Server code is never budgeted. Default 100.
   */
  readonly topicsPerClient?: number;
  /**
   * Commands one client (a user, or a remote address when anonymous) may send through the hub: a
   * token bucket. Past it the invocation fails saying when to retry. Default 50 at once, then 10
   * a second; `false` turns it off. Server code calling {@link EventService.command} is never limited.
   */
  readonly commandRateLimit?: RateLimitOptions | false;
  /**
   * Publishes one client may send (hub `publish` and HTTP ingest; HTTP answers 429 with
   * `Retry-After`). Off by default.
   */
  readonly publishRateLimit?: RateLimitOptions | false;
}

/** Default of {@link EventServiceOptions.commandRateLimit}. */
export const DEFAULT_COMMAND_RATE_LIMIT: RateLimitOptions = {burst: 50, perSecond: 10};

/** Default of {@link EventServiceOptions.maxSubscriptionsPerConnection}. */
export const DEFAULT_MAX_SUBSCRIPTIONS = 100;

/** The issue code of a publish refused because the log holds as many topics as it may (HTTP 429). */
export const TOPIC_LIMIT = 'topic_limit';

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
  readonly #authorizer: TopicAuthorizer;
  readonly #observer: EventObserver;
  readonly #commands = new Map<string, CommandHandler>();
  readonly #appended = new Set<AppendedListener>();
  readonly #maxSubscriptions: number;
  readonly #feeds: TopicFeeds;
  readonly #budget: TopicBudget;
  readonly #commandLimiter: RateLimiter | undefined;
  readonly #publishLimiter: RateLimiter | undefined;

  constructor(options: EventServiceOptions) {
    this.#hub = options.hub;
    this.#log = options.log;
    this.#registry = options.registry;
    this.#logger = options.logger;
    this.#authorizer = new TopicAuthorizer({
      ...(options.topics === undefined ? {} : {topics: options.topics}),
      ...(options.defaultTopic === undefined ? {} : {defaultTopic: options.defaultTopic}),
      ...(options.serverOwned === undefined ? {} : {serverOwned: options.serverOwned}),
    });
    this.#observer = options.observer ?? {};
    this.#maxSubscriptions = options.maxSubscriptionsPerConnection ?? DEFAULT_MAX_SUBSCRIPTIONS;
    const has = this.#log.has?.bind(this.#log);
    const commandLimit = options.commandRateLimit ?? DEFAULT_COMMAND_RATE_LIMIT;
    this.#commandLimiter = commandLimit === false ? undefined : new RateLimiter(commandLimit);
    this.#publishLimiter = options.publishRateLimit === undefined || options.publishRateLimit === false ? undefined : new RateLimiter(options.publishRateLimit);
    this.#budget = new TopicBudget(options.topicsPerClient ?? DEFAULT_TOPICS_PER_CLIENT, DEFAULT_MAX_AGE_MS, has);
    this.#feeds = new TopicFeeds({
      hub: this.#hub,
      log: this.#log,
      logger: this.#logger,
      groupOf,
      delivered: (topic, n) => this.#observer.delivered?.(topic, n),
      ...(options.maxHeldDuringReplay === undefined ? {} : {maxHeldDuringReplay: options.maxHeldDuringReplay}),
    });
    // A topic someone follows is never forgotten as idle, however long it stays empty.
    this.#log.setTopicInUse?.((topic) => this.#hub.groupSize(groupOf(topic)) > 0);
    this.#installHubMethods();
  }

  /**
   * Calls `listener` with every event appended to any topic (not for duplicates), and who appended
   * it; returns a function that stops it. Trust what `appender.kind === 'server'` appended; a
   * client's event passed its topic's policy, nothing more.
   */
  onAppended(listener: AppendedListener): () => void {
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
  async command(input: unknown, sender: CommandSender = {principal: undefined}): Promise<unknown> {
    const result = this.#registry.validate(input);
    if (!result.ok) throw new HubError(describe(result.error, result.issues));
    const envelope = result.value;
    const contract = this.#registry.get(envelope.type, envelope.version);
    if (contract?.kind !== 'command') throw new HubError(`"${envelope.type}" is not a command.`);
    const handler = this.#commands.get(envelope.type);
    if (handler === undefined) throw new HubError(`No handler for command "${envelope.type}".`);
    this.#logger.debug({type: envelope.type, id: envelope.id, correlationId: envelope.correlationId}, 'command received');
    return handler(envelope, sender);
  }

  /** Whether `principal` (undefined: anonymous) may subscribe to `topic` or read its history. */
  canSubscribe(topic: string, principal: Principal | undefined): Decision {
    return this.#authorizer.canSubscribe(topic, principal);
  }

  /**
   * Takes one publish from `appender`'s rate limit (`publishRateLimit`); throws {@link RateLimitError}
   * (with when to retry) past it. Server code is never limited.
   */
  takePublish(appender: Appender): void {
    const key = this.#budget.keyOf(appender);
    if (key === undefined || this.#publishLimiter === undefined) return;
    const decision = this.#publishLimiter.take(key);
    if (!decision.allowed) throw new RateLimitError('publishes', decision.retryAfterMs);
  }

  /** Whether `appender` may publish anything on `topic`: the policy's topic-level check, before any validation. */
  canPublishOn(topic: string, appender: Appender): Decision {
    return this.#authorizer.canPublishOn(topic, appender);
  }

  /**
   * Validates every input, then appends them all in order, or none: a batch with one invalid or
   * refused envelope changes nothing and reports the issues of each bad one by index.
   */
  async publishMany(topic: string, inputs: readonly unknown[], appender: Appender = ANONYMOUS): Promise<ValidationResult<PublishOutcome[]>> {
    const checked = inputs.map((input) => this.#check(topic, input, appender));
    const issues = new IssueList();
    checked.forEach((r, i) => {
      if (!r.ok) for (const issue of r.issues) issues.add(issue, i);
    });
    if (issues.total > 0) {
      this.#observer.rejected?.(topic);
      return invalid(`${checked.filter((r) => !r.ok).length} of ${inputs.length} events are invalid${issues.note()}`, issues.kept);
    }
    const events = checked.map((r) => (r as {value: Envelope}).value);
    let value: PublishOutcome[];
    try {
      const creates = await this.#admitTopic(topic, appender);
      if (this.#log.appendMany !== undefined) {
        // One call to the log: all appended or, if it refuses or is unreachable, none.
        const results = await this.#log.appendMany(topic, events, appender.kind === 'server' ? 'server' : 'client');
        value = results.map((result, i) => this.#report(topic, events[i]!, result, appender));
      } else {
        value = [];
        for (const event of events) value.push(await this.#append(topic, event, appender));
      }
      if (creates) this.#budget.created(appender, topic);
    } catch (error) {
      return this.#refused(topic, error);
    }
    return {ok: true, value};
  }

  /** The log behind the topics. */
  get log(): TopicLog {
    return this.#log;
  }

  /**
   * A client's publish: validates `input` as an envelope of a registered contract, checks the
   * topic's policy for `appender` (anonymous by default), appends it to `topic` and pushes it to the
   * topic's subscribers. Invalid or refused input changes nothing (a refusal's issue has code
   * {@link FORBIDDEN}). Publishing an envelope id already retained returns its original offset and
   * pushes nothing. Server code uses {@link append}.
   */
  async publish(topic: string, input: unknown, appender: Appender = ANONYMOUS): Promise<ValidationResult<PublishOutcome>> {
    const result = this.#check(topic, input, appender);
    if (!result.ok) {
      this.#observer.rejected?.(topic);
      return result;
    }
    try {
      const creates = await this.#admitTopic(topic, appender);
      const value = await this.#append(topic, result.value, appender);
      if (creates) this.#budget.created(appender, topic);
      return {ok: true, value};
    } catch (error) {
      return this.#refused(topic, error);
    }
  }

  /**
   * For a client's publish: whether it would create `topic` (then it counts against the client's
   * topic budget); throws {@link TopicLimitError} when the client's budget is spent.
   */
  async #admitTopic(topic: string, appender: Appender): Promise<boolean> {
    if (appender.kind === 'server') return false;
    const log = this.#log;
    const exists = log.has !== undefined ? log.has(topic) : log.exists !== undefined ? await log.exists(topic) : (await log.head(topic)) !== null;
    if (exists) return false;
    if (!this.#budget.allows(appender)) throw new TopicBudgetError(this.#budget.quotaOf(appender));
    return true;
  }

  /** A publish the log refused for a limit (a new topic past the cap), as a result with code {@link TOPIC_LIMIT}. */
  #refused<T>(topic: string, error: unknown): ValidationResult<T> {
    if (!(error instanceof TopicLimitError) && !(error instanceof TopicBudgetError)) throw error;
    this.#observer.rejected?.(topic);
    this.#logger.warn({topic, limit: error.limit}, 'publish refused: topic limit');
    return invalid(error.message, [{path: 'topic', message: error.message, code: TOPIC_LIMIT}]);
  }

  /**
   * The server's own append: validated against the contracts like any publish, but no topic
   * policy applies, so server-owned types can be appended. Never reachable from a client: the hub's
   * `publish` and the HTTP ingest go through {@link publish}.
   */
  append(topic: string, input: unknown): Promise<ValidationResult<PublishOutcome>> {
    return this.publish(topic, input, SERVER);
  }

  /** Validates one input for `topic`: against its contract (or, where the topic accepts unknown types, as an envelope), then the policy. */
  #check(topic: string, input: unknown, appender: Appender): ValidationResult<Envelope> {
    if (!TOPIC_PATTERN.test(topic)) return invalid('invalid topic', [{path: 'topic', message: `"${topic}" is not a valid topic name`}]);
    let result = this.#registry.validate(input);
    if (!result.ok && result.issues[0]?.code === 'unknown_type' && this.#authorizer.policy(topic).unknownTypes === 'accept') {
      const head = envelopeSchema.safeParse(input);
      result = head.success ? {ok: true, value: head.data as Envelope} : invalid('invalid envelope', toIssues(head.error));
    }
    if (!result.ok) return result;
    const {type, version} = result.value;
    if (this.#registry.get(type, version)?.kind === 'command') {
      return forbidden(`"${type}" is a command: commands go only through \`command\`, never publish`);
    }
    const decision = this.#authorizer.canPublish(topic, type, appender);
    return decision.allowed ? result : forbidden(decision.reason);
  }

  /** Appends to the log; the log's feed pushes the event to subscribers on every hub process. */
  async #append(topic: string, event: Envelope, appender: Appender): Promise<PublishOutcome> {
    return this.#report(topic, event, await this.#log.append(topic, event, appender.kind === 'server' ? 'server' : 'client'), appender);
  }

  /** Reports an append the log made (observer, log line, listeners); duplicates are not reported. */
  #report(topic: string, event: Envelope, {offset, duplicate}: PublishOutcome, appender: Appender): PublishOutcome {
    if (!duplicate) {
      this.#observer.published?.(topic, event.type);
      this.#logger.debug({topic, offset, type: event.type, id: event.id, correlationId: event.correlationId, by: byOf(appender)}, 'event published');
      for (const listener of this.#appended) listener(topic, offset, event, appender);
    }
    return {offset, duplicate};
  }

  /** Stops following the log's feed. */
  close(): void {
    this.#feeds.close();
  }

  #installHubMethods(): void {
    this.#hub
      .method(HubMethods.subscribe, {
        params: {topic: topicSchema, fromOffset: z.string().nullable()},
        handler: async ({topic, fromOffset}, {caller}): Promise<SubscribeResult> => {
          const decision = this.#authorizer.canSubscribe(topic, caller.request.principal);
          if (!decision.allowed) throw new HubError(`Forbidden: ${decision.reason}.`);
          if (fromOffset !== null && !this.#log.isOffset(fromOffset)) throw new HubError(`"${fromOffset}" is not an offset of this hub.`);
          // Checked and joined in the same turn (the feed joins the group before its first await),
          // so concurrent subscribes cannot pass the cap together.
          if (!caller.groups.has(groupOf(topic)) && countTopics(caller.groups) >= this.#maxSubscriptions) {
            throw new HubError(`Subscription limit reached: a connection may follow at most ${this.#maxSubscriptions} topics (option maxSubscriptionsPerConnection).`);
          }
          const {truncated, replayed} = await unavailableAsHubError(this.#feeds.subscribe(caller, topic, fromOffset));
          if (fromOffset !== null) this.#observer.replayed?.(topic, replayed);
          // The position, not just the head: for an empty topic an offset before its first event, so a
          // client that drops before receiving one resumes from it instead of from whenever it is back.
          const offset = await unavailableAsHubError(this.#log.position?.(topic) ?? this.#log.head(topic));
          return {topic, offset, truncated};
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
        handler: async ({topic, envelope}, {caller}): Promise<PublishResult> => {
          const appender = clientAppender('hub', caller.request.principal, caller.request.remoteAddress);
          rateLimitAsHubError(() => this.takePublish(appender));
          const result = await unavailableAsHubError(this.publish(topic, envelope, appender));
          if (!result.ok) throw new HubError(describe(result.error, result.issues));
          return {offset: result.value.offset};
        },
      })
      .method(HubMethods.command, {
        params: {envelope: z.unknown()},
        handler: ({envelope}, {caller}) => {
          const key = this.#budget.keyOf(clientAppender('hub', caller.request.principal, caller.request.remoteAddress));
          const decision = key === undefined ? undefined : this.#commandLimiter?.take(key);
          if (decision !== undefined && !decision.allowed) throw new HubError(new RateLimitError('commands', decision.retryAfterMs).message);
          return this.command(envelope, {principal: caller.request.principal});
        },
      });
  }
}

/** Thrown when a client's publish would create a topic past its topic budget. */
export class TopicBudgetError extends Error {
  override readonly name = 'TopicBudgetError';
  constructor(readonly limit: number) {
    super(
      `Topic budget reached: a client may create at most ${limit} topics (option topicsPerClient, or a "topicQuota" claim in its token); publish to an existing topic, or retry once some have idled out.`,
    );
  }
}

/** The default appender of `publish`: a client nobody authenticated. */
const ANONYMOUS: Appender = clientAppender('http', undefined);

function forbidden<T>(reason: string): ValidationResult<T> {
  return {ok: false, error: `Forbidden: ${reason}.`, issues: [{path: 'type', message: reason, code: FORBIDDEN}]};
}

/** Who appended, for logs: `server`, or the client's user id. */
function byOf(appender: Appender): string {
  return appender.kind === 'server' ? 'server' : `${appender.via}:${appender.principal?.userId ?? 'anonymous'}`;
}

/** A rate-limit refusal as an invocation error saying when to retry. */
function rateLimitAsHubError(take: () => void): void {
  try {
    take();
  } catch (error) {
    if (error instanceof RateLimitError) throw new HubError(error.message);
    throw error;
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

/** How many topic groups (of all the groups a connection is in) it follows. */
function countTopics(groups: ReadonlySet<string>): number {
  let n = 0;
  for (const group of groups) if (group.startsWith('topic:')) n++;
  return n;
}

function describe(error: string, issues: readonly {path: string; message: string}[]): string {
  const rest = issues.slice(1, 5).map((i) => `${i.path}: ${i.message}`);
  return rest.length === 0 ? error : `${error}; ${rest.join('; ')}`;
}
