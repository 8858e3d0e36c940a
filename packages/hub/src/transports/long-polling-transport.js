/** One long-polling connection: outgoing messages queue until a poll takes them. */
class LongPollingConnection {
    connectionId;
    request;
    pollTimeoutMs;
    onFinished;
    transport = 'LongPolling';
    inherentKeepAlive = true;
    supportsReconnect = false;
    #queue = [];
    #poll;
    #closing = false;
    #finished = false;
    sink;
    /** When the last poll ended; undefined while one is outstanding. */
    idleSince = Date.now();
    constructor(connectionId, request, pollTimeoutMs, onFinished) {
        this.connectionId = connectionId;
        this.request = request;
        this.pollTimeoutMs = pollTimeoutMs;
        this.onFinished = onFinished;
    }
    enableReconnect() { }
    abort() {
        this.#poll?.res.destroy();
        this.finish(new Error('Connection aborted.'));
    }
    send(payload) {
        if (this.#finished)
            return;
        this.#queue.push(payload);
        if (this.#poll !== undefined)
            this.#flush(this.#poll);
    }
    /**
     * Server side close: a poll takes what is still queued (the Close message), and the poll after
     * that gets 204 and ends the connection.
     */
    close() {
        this.#closing = true;
        if (this.#poll !== undefined && this.#queue.length === 0)
            this.finish();
    }
    /** A new poll: answers at once when data is queued or the connection is ending, else waits. */
    poll(req, res) {
        // A newer poll replaces an outstanding one, which ends with 204.
        if (this.#poll !== undefined)
            this.#answer(this.#poll, 204);
        if (this.#finished) {
            res.writeHead(204).end();
            return;
        }
        const poll = { res, timer: setTimeout(() => this.#answer(poll, 200), this.pollTimeoutMs) };
        this.#poll = poll;
        this.idleSince = undefined;
        req.on('close', () => {
            // The client went away mid-poll: forget the poll, keep the data for the next one.
            if (this.#poll === poll)
                this.#end(poll);
        });
        if (this.#queue.length > 0)
            this.#flush(poll);
        else if (this.#closing) {
            this.#answer(poll, 204);
            this.finish();
        }
    }
    /** Ends the connection for good: a pending poll gets 204 and the hub hears it closed. */
    finish(error) {
        if (this.#finished)
            return;
        this.#finished = true;
        if (this.#poll !== undefined)
            this.#answer(this.#poll, 204);
        this.#queue.length = 0;
        this.onFinished();
        this.sink?.closed(error);
    }
    get finished() {
        return this.#finished;
    }
    #flush(poll) {
        const body = Buffer.concat(this.#queue.splice(0));
        this.#end(poll);
        poll.res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(body.length) });
        poll.res.end(body);
    }
    #answer(poll, status) {
        this.#end(poll);
        if (status === 200)
            poll.res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': '0' }).end();
        else
            poll.res.writeHead(204).end();
    }
    #end(poll) {
        clearTimeout(poll.timer);
        if (this.#poll === poll) {
            this.#poll = undefined;
            this.idleSince = Date.now();
        }
    }
}
/**
 * The Long Polling transport: each GET takes what the server has queued (or waits for it up to the
 * poll timeout); the client sends with POST (handled by the endpoint) and ends with DELETE.
 */
export class LongPollingTransport {
    #connections = new Map();
    #pollTimeoutMs;
    #disconnectTimeoutMs;
    #sweeper;
    constructor(options = {}) {
        this.#pollTimeoutMs = options.pollTimeoutMs ?? 90000;
        this.#disconnectTimeoutMs = options.disconnectTimeoutMs ?? 15000;
    }
    /**
     * Handles a poll for the connection `token`. The first poll creates the connection, hands it to
     * the hub and answers 200 at once with no body, as the client expects.
     */
    poll(req, res, token, target) {
        const existing = this.#connections.get(token);
        if (existing !== undefined) {
            existing.poll(req, res);
            return undefined;
        }
        const connection = new LongPollingConnection(target.connectionId, target.request, this.#pollTimeoutMs, () => {
            this.#connections.delete(token);
            target.onClosed();
        });
        this.#connections.set(token, connection);
        this.#startSweeper();
        connection.sink = target.handler.connect(connection);
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': '0' }).end();
        return connection.sink;
    }
    /** Ends the connection `token` at the client's request (DELETE); false when there is none. */
    delete(token) {
        const connection = this.#connections.get(token);
        if (connection === undefined)
            return false;
        connection.finish();
        return true;
    }
    /** Ends every connection. */
    close() {
        for (const connection of [...this.#connections.values()])
            connection.finish();
        clearInterval(this.#sweeper);
        this.#sweeper = undefined;
    }
    #startSweeper() {
        if (this.#sweeper !== undefined)
            return;
        this.#sweeper = setInterval(() => {
            const now = Date.now();
            for (const c of [...this.#connections.values()]) {
                if (c.idleSince !== undefined && now - c.idleSince > this.#disconnectTimeoutMs) {
                    c.finish(new Error('Long polling client stopped polling.'));
                }
            }
            if (this.#connections.size === 0) {
                clearInterval(this.#sweeper);
                this.#sweeper = undefined;
            }
        }, Math.max(10, Math.min(1000, this.#disconnectTimeoutMs / 4)));
        this.#sweeper.unref();
    }
}
