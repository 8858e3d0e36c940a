import type {Audience, Backplane, BackplaneMessage, Scope} from '../backplane/index.js';
import {MessageType, type HubMessage, type HubProtocol} from '../protocol/index.js';
import type {HubConnection} from './hub-connection.js';
import type {Session} from './session.js';

/**
 * Who is connected to this process and who receives what (internal to the hub): the sessions by
 * connection id, groups and users, the membership the backplane and group listeners are told of, and
 * delivery of backplane messages to the connections in their audience.
 */
export class HubLifetime {
  readonly #backplane: Backplane;
  readonly #sessions = new Map<string, Session>();
  readonly #groups = new Map<string, Set<Session>>();
  readonly #users = new Map<string, Set<Session>>();
  readonly #groupListeners = new Set<(group: string, present: boolean) => void>();

  constructor(backplane: Backplane) {
    this.#backplane = backplane;
  }

  /** How many sessions this process holds, in any phase. */
  get size(): number {
    return this.#sessions.size;
  }

  /** A session by connection id. */
  get(connectionId: string): Session | undefined {
    return this.#sessions.get(connectionId);
  }

  /** Every session, live: sessions removed while iterating are skipped. */
  sessions(): IterableIterator<Session> {
    return this.#sessions.values();
  }

  /** Every session's connection, live like {@link sessions}. */
  *connections(): Iterable<HubConnection> {
    for (const {connection} of this.#sessions.values()) yield connection;
  }

  /** Registers a session a transport just accepted (still in its handshake). */
  add(session: Session): void {
    this.#sessions.set(session.connection.connectionId, session);
  }

  /** A session completed its handshake: its connection and its user are now present here. */
  opened(session: Session): void {
    const connection = session.connection;
    this.#membership({kind: 'connection', name: connection.connectionId}, true);
    if (connection.userId !== undefined) {
      let sessions = this.#users.get(connection.userId);
      if (sessions === undefined) {
        this.#users.set(connection.userId, (sessions = new Set()));
        this.#membership({kind: 'user', name: connection.userId}, true);
      }
      sessions.add(session);
    }
  }

  /**
   * Forgets a session whose connection closed (after it left its groups); its connection, if it
   * was open, and its user, if it was the user's last, are no longer present here.
   */
  remove(session: Session, wasOpen: boolean): void {
    const connection = session.connection;
    this.#sessions.delete(connection.connectionId);
    if (wasOpen) this.#membership({kind: 'connection', name: connection.connectionId}, false);
    if (connection.userId !== undefined) {
      const sessions = this.#users.get(connection.userId);
      sessions?.delete(session);
      if (sessions?.size === 0) {
        this.#users.delete(connection.userId);
        this.#membership({kind: 'user', name: connection.userId}, false);
      }
    }
  }

  /** Adds a connection to a group (a no-op when it is already in it, or not registered). */
  addToGroup(connection: HubConnection, group: string): void {
    const session = this.#sessions.get(connection.connectionId);
    if (session === undefined) return;
    let members = this.#groups.get(group);
    const fresh = members === undefined;
    if (members === undefined) this.#groups.set(group, (members = new Set()));
    members.add(session);
    connection.groups.add(group);
    if (fresh) this.#membership({kind: 'group', name: group}, true);
  }

  /** Removes a connection from a group. */
  removeFromGroup(connection: HubConnection, group: string): void {
    const session = this.#sessions.get(connection.connectionId);
    const members = this.#groups.get(group);
    if (session !== undefined) members?.delete(session);
    connection.groups.delete(group);
    if (members?.size === 0) {
      this.#groups.delete(group);
      this.#membership({kind: 'group', name: group}, false);
    }
  }

  /** Calls `listener` when a group gains its first connection here or loses its last; returns a function that stops it. */
  onGroupPresence(listener: (group: string, present: boolean) => void): () => void {
    this.#groupListeners.add(listener);
    return () => this.#groupListeners.delete(listener);
  }

  /** How many of this process's connections are in `group`. */
  groupSize(group: string): number {
    return this.#groups.get(group)?.size ?? 0;
  }

  /**
   * Delivers a backplane message to this process's open connections in its audience, serialized
   * once per protocol; `argumentsJson` (its arguments as JSON text) spares text protocols that can
   * take it the serialization.
   */
  deliver({audience, target, arguments: args}: BackplaneMessage, argumentsJson?: string): void {
    const message: HubMessage = {type: MessageType.Invocation, target, arguments: args};
    const serialized = new Map<HubProtocol, Uint8Array>();
    for (const session of this.#audience(audience)) {
      const c = session.connection;
      if (c.phase !== 'open' || c.protocol === undefined) continue;
      let payload = serialized.get(c.protocol);
      if (payload === undefined) {
        const {protocol} = c;
        payload = argumentsJson !== undefined && protocol.writeInvocationJson !== undefined ? protocol.writeInvocationJson(target, argumentsJson) : protocol.writeMessage(message);
        serialized.set(protocol, payload);
      }
      c.sendSerialized(payload, true);
    }
  }

  /** Tells the backplane (and group listeners) what this process now holds members of, or no longer. */
  #membership(scope: Scope, present: boolean): void {
    this.#backplane.membership?.(scope, present);
    if (scope.kind === 'group') for (const listener of [...this.#groupListeners]) listener(scope.name, present);
  }

  #audience(audience: Audience): Iterable<Session> {
    switch (audience.kind) {
      case 'all':
        return audience.except === undefined ? this.#sessions.values() : except(this.#sessions.values(), audience.except);
      case 'connections':
        return audience.ids.flatMap((id) => this.#sessions.get(id) ?? []);
      case 'groups': {
        const members = union(audience.names.map((n) => this.#groups.get(n)));
        return audience.except === undefined ? members : except(members, audience.except);
      }
      case 'users':
        return union(audience.ids.map((id) => this.#users.get(id)));
    }
  }
}

function* except(sessions: Iterable<Session>, ids: readonly string[]): Iterable<Session> {
  for (const s of sessions) if (!ids.includes(s.connection.connectionId)) yield s;
}

function union(sets: ReadonlyArray<Set<Session> | undefined>): Set<Session> {
  if (sets.length === 1) return sets[0] ?? new Set();
  const all = new Set<Session>();
  for (const set of sets) if (set !== undefined) for (const s of set) all.add(s);
  return all;
}
