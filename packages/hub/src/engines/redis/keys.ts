/**
 * Every Redis key and channel name Switchboard uses, in one place (as ASP.NET's `RedisChannels`).
 * A topic's keys share a hash tag (`{topic}`), so a Lua script touching them runs on one slot.
 */
export class RedisKeys {
  constructor(readonly prefix = 'sb') {}

  /** The stream of a topic's retained events; entry ids are the topic's sequence numbers. */
  stream(topic: string): string {
    return `${this.prefix}:topic:{${topic}}:stream`;
  }

  /** The hash holding a topic's epoch (`e`) and top sequence number (`s`). */
  meta(topic: string): string {
    return `${this.prefix}:topic:{${topic}}:meta`;
  }

  /** Marks an envelope id as appended (its value is the offset), for idempotent publish. */
  seen(topic: string, eventId: string): string {
    return `${this.prefix}:topic:{${topic}}:seen:${eventId}`;
  }

  /** Where each append to `topic` is announced, with its offset. */
  topicChannel(topic: string): string {
    return `${this.prefix}:topic:${topic}`;
  }

  /** Pattern matching every topic channel. */
  get topicPattern(): string {
    return `${this.prefix}:topic:*`;
  }

  /** The topic named by a channel from {@link topicPattern}. */
  topicOf(channel: string): string {
    return channel.slice(this.prefix.length + ':topic:'.length);
  }

  /** Hub sends to every connection. */
  get all(): string {
    return `${this.prefix}:hub:all`;
  }

  /** Hub sends to one group. */
  group(name: string): string {
    return `${this.prefix}:hub:group:${name}`;
  }

  /** Hub sends to one user's connections. */
  user(id: string): string {
    return `${this.prefix}:hub:user:${id}`;
  }

  /** Hub sends to one connection, and client-result requests for it. */
  connection(id: string): string {
    return `${this.prefix}:hub:connection:${id}`;
  }

  /** Hub sends to several groups at once (every process listens). */
  get multi(): string {
    return `${this.prefix}:hub:multi`;
  }

  /** Answers to client-result requests a node made. */
  returns(node: string): string {
    return `${this.prefix}:hub:return:${node}`;
  }
}
