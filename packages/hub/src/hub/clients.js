/**
 * Every audience a hub can address. Sends go through the backplane, so with several hub processes
 * they reach connections on all of them.
 */
export class HubClients {
    #send;
    constructor(send) {
        this.#send = send;
    }
    /** Every connection. */
    get all() {
        return this.#proxy({ kind: 'all' });
    }
    /** Every connection but those listed. */
    allExcept(connectionIds) {
        return this.#proxy({ kind: 'all', except: connectionIds });
    }
    /** One connection. */
    client(connectionId) {
        return this.#proxy({ kind: 'connections', ids: [connectionId] });
    }
    /** Several connections. */
    clients(connectionIds) {
        return this.#proxy({ kind: 'connections', ids: connectionIds });
    }
    /** The connections in a group. */
    group(name) {
        return this.#proxy({ kind: 'groups', names: [name] });
    }
    /** The connections in any of several groups, each once. */
    groups(names) {
        return this.#proxy({ kind: 'groups', names });
    }
    /** The connections in a group but those listed. */
    groupExcept(name, connectionIds) {
        return this.#proxy({ kind: 'groups', names: [name], except: connectionIds });
    }
    /** Every connection of a user. */
    user(userId) {
        return this.#proxy({ kind: 'users', ids: [userId] });
    }
    /** Every connection of several users. */
    users(userIds) {
        return this.#proxy({ kind: 'users', ids: userIds });
    }
    #proxy(audience) {
        return { send: (target, ...args) => this.#send(audience, target, args) };
    }
}
