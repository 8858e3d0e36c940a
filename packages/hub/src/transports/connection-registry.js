import { randomBytes } from 'node:crypto';
/** A fresh URL-safe random id, for connection ids and tokens: 128 bits, as unguessable as ASP.NET's. */
export function randomId() {
    return randomBytes(16).toString('base64url');
}
/**
 * The connections negotiate created, by token. A token that no transport claims within
 * `unclaimedTimeoutMs` is forgotten, so abandoned negotiations cannot pile up.
 */
export class ConnectionRegistry {
    #byToken = new Map();
    #unclaimedTimeoutMs;
    constructor(options = {}) {
        this.#unclaimedTimeoutMs = options.unclaimedTimeoutMs ?? 30000;
    }
    /** Creates a connection; for negotiate version 0 its token is its id, as those clients expect. */
    create(options, now = Date.now()) {
        this.sweep(now);
        const connectionId = randomId();
        const entry = {
            connectionId,
            token: options.negotiateVersion >= 1 ? randomId() : connectionId,
            createdAt: now,
            principal: options.principal,
            statefulReconnect: options.statefulReconnect ?? false,
            transport: undefined,
            sink: undefined,
            posting: false,
            websocket: undefined,
        };
        this.#byToken.set(entry.token, entry);
        return entry;
    }
    get(token) {
        return this.#byToken.get(token);
    }
    delete(token) {
        this.#byToken.delete(token);
    }
    get size() {
        return this.#byToken.size;
    }
    /** Forgets connections created before `now - unclaimedTimeoutMs` that no transport claimed. */
    sweep(now = Date.now()) {
        for (const [token, entry] of this.#byToken) {
            if (entry.transport === undefined && now - entry.createdAt > this.#unclaimedTimeoutMs)
                this.#byToken.delete(token);
        }
    }
}
