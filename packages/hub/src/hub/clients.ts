import type {Audience} from '../backplane/index.js';

/** Sends one invocation (fire-and-forget) to a set of connections. */
export interface ClientProxy {
  send(target: string, ...args: unknown[]): void;
}

/**
 * Every audience a hub can address. Sends go through the backplane, so with several hub processes
 * they reach connections on all of them.
 */
export class HubClients {
  readonly #send: (audience: Audience, target: string, args: unknown[]) => void;

  constructor(send: (audience: Audience, target: string, args: unknown[]) => void) {
    this.#send = send;
  }

  /** Every connection. */
  get all(): ClientProxy {
    return this.#proxy({kind: 'all'});
  }

  /** Every connection but those listed. */
  allExcept(connectionIds: readonly string[]): ClientProxy {
    return this.#proxy({kind: 'all', except: connectionIds});
  }

  /** One connection. */
  client(connectionId: string): ClientProxy {
    return this.#proxy({kind: 'connections', ids: [connectionId]});
  }

  /** Several connections. */
  clients(connectionIds: readonly string[]): ClientProxy {
    return this.#proxy({kind: 'connections', ids: connectionIds});
  }

  /** The connections in a group. */
  group(name: string): ClientProxy {
    return this.#proxy({kind: 'groups', names: [name]});
  }

  /** The connections in any of several groups, each once. */
  groups(names: readonly string[]): ClientProxy {
    return this.#proxy({kind: 'groups', names});
  }

  /** The connections in a group but those listed. */
  groupExcept(name: string, connectionIds: readonly string[]): ClientProxy {
    return this.#proxy({kind: 'groups', names: [name], except: connectionIds});
  }

  /** Every connection of a user. */
  user(userId: string): ClientProxy {
    return this.#proxy({kind: 'users', ids: [userId]});
  }

  /** Every connection of several users. */
  users(userIds: readonly string[]): ClientProxy {
    return this.#proxy({kind: 'users', ids: userIds});
  }

  #proxy(audience: Audience): ClientProxy {
    return {send: (target, ...args) => this.#send(audience, target, args)};
  }
}
