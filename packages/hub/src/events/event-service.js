import { envelopeSchema, invalid, toIssues } from '@switchboard/contracts';
import { z } from 'zod';
import { HubError } from '../hub';
/** What a topic name looks like: 1–128 characters of letters, digits, `.`, `_`, `-`, not starting with a symbol. */
export const TOPIC_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
/** The zod schema of a topic name, shared by the hub methods and the HTTP API. */
export const topicSchema = z.string().regex(TOPIC_PATTERN, 'must be 1-128 letters, digits, ".", "_" or "-"');
/** Events replayed to a subscriber per read of the log. */
const REPLAY_PAGE = 1000;
/**
 * Switchboard's event topics on top of a hub: publish validates an envelope against the contracts,
 * appends it to the topic's log and pushes `event {topic, offset, event}` to the topic's group;
 * subscribe replays what a client missed, then joins it to the group.
 */
export class EventService {
    #hub;
    #log;
    #registry;
    #logger;
    #topics;
    #defaultTopic;
    #observer;
    #commands = new Map();
    #appended = new Set();
    constructor(options) {
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
    onAppended(listener) {
        this.#appended.add(listener);
        return () => this.#appended.delete(listener);
    }
    /** The contracts incoming envelopes are validated against. */
    get registry() {
        return this.#registry;
    }
    /**
     * Registers the one server handler of a command; the hub's `command(envelope)` calls it and
     * answers with its result. Throws if the command has a handler already.
     */
    handle(command, handler) {
        if (command.kind !== 'command')
            throw new TypeError(`"${command.type}" is an event, not a command`);
        if (this.#commands.has(command.type))
            throw new Error(`"${command.type}" already has a handler`);
        this.#registry.register(command);
        this.#commands.set(command.type, handler);
        return () => this.#commands.delete(command.type);
    }
    /** Validates a command envelope and runs its handler; a refusal throws `HubError` with the reason. */
    async command(input) {
        const result = this.#registry.validate(input);
        if (!result.ok)
            throw new HubError(describe(result.error, result.issues));
        const envelope = result.value;
        const contract = this.#registry.get(envelope.type, envelope.version);
        if (contract?.kind !== 'command')
            throw new HubError(`"${envelope.type}" is not a command.`);
        const handler = this.#commands.get(envelope.type);
        if (handler === undefined)
            throw new HubError(`No handler for command "${envelope.type}".`);
        this.#logger.info({ type: envelope.type, id: envelope.id, correlationId: envelope.correlationId }, 'command received');
        return handler(envelope);
    }
    /**
     * Validates every input, then appends them all in order, or none: a batch with one invalid
     * envelope changes nothing and reports the issues of each bad one by index.
     */
    publishMany(topic, inputs) {
        const checked = inputs.map((input) => this.#check(topic, input));
        const issues = [];
        checked.forEach((r, i) => {
            if (!r.ok)
                for (const issue of r.issues)
                    issues.push({ ...issue, path: `${i}${issue.path === '' ? '' : `.${issue.path}`}` });
        });
        if (issues.length > 0) {
            this.#observer.rejected?.(topic);
            return invalid(`${checked.filter((r) => !r.ok).length} of ${inputs.length} events are invalid`, issues);
        }
        return { ok: true, value: checked.map((r) => this.#append(topic, r.value)) };
    }
    /** The log behind the topics. */
    get log() {
        return this.#log;
    }
    /**
     * Validates `input` as an envelope of a registered contract, appends it to `topic` and pushes it
     * to the topic's subscribers. Invalid input changes nothing. Publishing an envelope id already
     * retained returns its original offset and pushes nothing.
     */
    publish(topic, input) {
        const result = this.#check(topic, input);
        if (!result.ok) {
            this.#observer.rejected?.(topic);
            return result;
        }
        return { ok: true, value: this.#append(topic, result.value) };
    }
    /** Validates one input for `topic`: against its contract, or (where the topic accepts unknown types) as an envelope. */
    #check(topic, input) {
        if (!TOPIC_PATTERN.test(topic))
            return invalid('invalid topic', [{ path: 'topic', message: `"${topic}" is not a valid topic name` }]);
        const result = this.#registry.validate(input);
        if (result.ok || result.issues[0]?.code !== 'unknown_type')
            return result;
        if ((this.#topics[topic] ?? this.#defaultTopic).unknownTypes !== 'accept')
            return result;
        const head = envelopeSchema.safeParse(input);
        return head.success ? { ok: true, value: head.data } : invalid('invalid envelope', toIssues(head.error));
    }
    #append(topic, event) {
        const { offset, duplicate } = this.#log.append(topic, event);
        if (!duplicate) {
            const group = groupOf(topic);
            this.#hub.clients.group(group).send('event', { topic, offset, event });
            this.#observer.published?.(topic, event.type);
            this.#observer.delivered?.(topic, this.#hub.groupSize(group));
            this.#logger.info({ topic, offset, type: event.type, id: event.id, correlationId: event.correlationId }, 'event published');
            for (const listener of this.#appended)
                listener(topic, offset, event);
        }
        return { offset, duplicate };
    }
    #installHubMethods() {
        this.#hub
            .method('subscribe', {
            params: { topic: topicSchema, fromOffset: z.string().nullable() },
            handler: ({ topic, fromOffset }, { hub, caller, clients }) => {
                if (fromOffset !== null && !this.#log.isOffset(fromOffset))
                    throw new HubError(`"${fromOffset}" is not an offset of this hub.`);
                // Replay and join happen in one synchronous step: nothing can be appended in between,
                // so the client sees every event after fromOffset exactly once.
                let truncated = false;
                let replayed = 0;
                if (fromOffset !== null) {
                    let after = fromOffset;
                    for (;;) {
                        const page = this.#log.read(topic, after, REPLAY_PAGE);
                        truncated ||= page.truncated;
                        for (const { offset, event } of page.entries)
                            clients.caller.send('event', { topic, offset, event });
                        replayed += page.entries.length;
                        if (page.entries.length < REPLAY_PAGE)
                            break;
                        after = page.next;
                    }
                }
                hub.addToGroup(caller, groupOf(topic));
                if (fromOffset !== null)
                    this.#observer.replayed?.(topic, replayed);
                return { topic, offset: this.#log.head(topic), truncated };
            },
        })
            .method('unsubscribe', {
            params: { topic: topicSchema },
            handler: ({ topic }, { hub, caller }) => {
                hub.removeFromGroup(caller, groupOf(topic));
                return null;
            },
        })
            .method('publish', {
            params: { topic: topicSchema, envelope: z.unknown() },
            handler: ({ topic, envelope }) => {
                const result = this.publish(topic, envelope);
                if (!result.ok)
                    throw new HubError(describe(result.error, result.issues));
                return { offset: result.value.offset };
            },
        })
            .method('command', {
            params: { envelope: z.unknown() },
            handler: ({ envelope }) => this.command(envelope),
        });
    }
}
function groupOf(topic) {
    return `topic:${topic}`;
}
function describe(error, issues) {
    const rest = issues.slice(1, 5).map((i) => `${i.path}: ${i.message}`);
    return rest.length === 0 ? error : `${error}; ${rest.join('; ')}`;
}
