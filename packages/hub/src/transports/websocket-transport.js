import { WebSocketServer } from 'ws';
/**
 * Messages sent to one connection within one turn of the event loop travel in one frame, up to this
 * many bytes. SignalR allows several records (JSON) or length-prefixed messages (MessagePack) per
 * transport message, and one frame instead of twenty is most of what a broadcast costs.
 */
const COALESCE_LIMIT = 64 * 1024;
/**
 * Prepared frames: a broadcast hands every connection the same payload object, and a server's
 * frames are unmasked, so the frame is the same bytes for every client. It is built once and
 * written whole to each socket: one write per client instead of ws framing each send anew and
 * writing header and payload as two buffers.
 */
const prepared = new WeakMap();
/** A complete, unmasked, final WebSocket frame carrying `parts` back to back (RFC 6455 §5.2). */
export function frame(parts, binary) {
    let length = 0;
    for (const part of parts)
        length += part.byteLength;
    const header = length < 126 ? 2 : length < 65536 ? 4 : 10;
    const out = Buffer.allocUnsafe(header + length);
    out[0] = 0x80 | (binary ? 0x02 : 0x01);
    if (length < 126)
        out[1] = length;
    else if (length < 65536) {
        out[1] = 126;
        out.writeUInt16BE(length, 2);
    }
    else {
        out[1] = 127;
        out.writeBigUInt64BE(BigInt(length), 2);
    }
    let at = header;
    for (const part of parts) {
        out.set(part, at);
        at += part.byteLength;
    }
    return out;
}
/**
 * The last coalesced frame built: in a broadcast burst, connection after connection flushes the
 * very same parts, so the frame built for the first serves them all.
 */
let lastCoalesced;
/** The frame for `parts`, built once per distinct payload (one part) or run of identical part lists. */
function framed(parts, binary) {
    if (parts.length === 1) {
        let bytes = prepared.get(parts[0]);
        if (bytes === undefined)
            prepared.set(parts[0], (bytes = frame(parts, binary)));
        return bytes;
    }
    const last = lastCoalesced;
    if (last !== undefined && last.binary === binary && last.parts.length === parts.length && last.parts.every((p, i) => p === parts[i]))
        return last.bytes;
    const bytes = frame(parts, binary);
    lastCoalesced = { parts, binary, bytes };
    return bytes;
}
/** The socket to write a whole frame to now, or undefined when ws has frames of its own pending. */
function socketFor(ws) {
    const { _socket: socket, _sender: sender } = ws;
    if (socket === null || sender === undefined || sender._state !== 0 || !Array.isArray(sender._queue) || sender._queue.length > 0)
        return undefined;
    return socket;
}
/** WebSocket close code for a normal close: the only one the SignalR client does not treat as an error. */
const NORMAL_CLOSURE = 1000;
const GOING_AWAY = 1001;
/**
 * One connection over WebSockets. With stateful reconnect enabled it outlives its socket: an unclean
 * drop detaches it for a while, and a new socket presenting the same token takes over.
 */
export class WebSocketConnection {
    connectionId;
    request;
    supportsReconnect;
    reconnectWindowMs;
    onFinished;
    scheduleFlush;
    transport = 'WebSockets';
    inherentKeepAlive = false;
    #ws;
    #sink;
    #reconnect = false;
    #ending = false;
    #finished = false;
    #window;
    #pending = [];
    #pendingBytes = 0;
    #pendingBinary = false;
    constructor(connectionId, request, supportsReconnect, reconnectWindowMs, onFinished, 
    /** Queues this connection for the transport's one flush at the end of the turn. */
    scheduleFlush) {
        this.connectionId = connectionId;
        this.request = request;
        this.supportsReconnect = supportsReconnect;
        this.reconnectWindowMs = reconnectWindowMs;
        this.onFinished = onFinished;
        this.scheduleFlush = scheduleFlush;
    }
    /** True while the socket is gone and a reattach is awaited. */
    get detached() {
        return this.#ws === undefined && !this.#finished && this.#sink !== undefined;
    }
    enableReconnect() {
        this.#reconnect = this.supportsReconnect;
    }
    send(payload, binary) {
        const ws = this.#ws;
        if (ws === undefined || ws.readyState !== ws.OPEN)
            return;
        // A frame is text or binary as a whole: a change of kind (the text handshake reply before
        // MessagePack) or a full batch goes out first.
        if (this.#pending.length > 0 && (binary !== this.#pendingBinary || this.#pendingBytes + payload.byteLength > COALESCE_LIMIT)) {
            this.#flush();
        }
        if (this.#pending.length === 0)
            this.scheduleFlush(this);
        this.#pending.push(payload);
        this.#pendingBytes += payload.byteLength;
        this.#pendingBinary = binary;
    }
    /** Sends what accumulated this turn as one frame. */
    flush() {
        this.#flush();
    }
    #flush = () => {
        const parts = this.#pending;
        if (parts.length === 0)
            return;
        this.#pending = [];
        this.#pendingBytes = 0;
        const ws = this.#ws;
        if (ws === undefined || ws.readyState !== ws.OPEN)
            return;
        const binary = this.#pendingBinary;
        const socket = socketFor(ws);
        if (socket === undefined)
            ws.send(parts.length === 1 ? parts[0] : Buffer.concat(parts), { binary });
        else
            socket.write(framed(parts, binary));
    };
    close() {
        this.#ending = true;
        this.#flush();
        if (this.#ws !== undefined)
            this.#ws.close(NORMAL_CLOSURE);
        else
            this.#finish();
    }
    abort() {
        this.#ws?.terminate();
    }
    /** Starts serving on `ws`: the first socket (handing the connection to the hub) or a reattach. */
    attach(ws, handler) {
        clearTimeout(this.#window);
        this.#ws = ws;
        const first = this.#sink === undefined;
        if (first)
            this.#sink = handler.connect(this);
        const sink = this.#sink;
        ws.on('message', (data, isBinary) => {
            if (this.#ws !== ws)
                return;
            const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
            sink.receive(isBinary ? new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength) : bytes.toString('utf8'));
        });
        ws.on('error', () => {
            // 'close' follows every 'error'; the sink hears of it there.
        });
        ws.on('close', (code) => {
            if (this.#ws !== ws)
                return;
            this.#ws = undefined;
            const clean = this.#ending || code === NORMAL_CLOSURE || code === GOING_AWAY;
            if (!clean && this.#reconnect) {
                sink.detached?.();
                this.#window = setTimeout(() => this.#finish(new Error('The client did not reconnect in time.')), this.reconnectWindowMs);
                this.#window.unref();
                return;
            }
            this.#finish(clean ? undefined : new Error(`WebSocket closed with code ${code}`));
        });
        if (!first)
            sink.reattached?.();
    }
    #finish(error) {
        if (this.#finished)
            return;
        this.#finished = true;
        clearTimeout(this.#window);
        this.onFinished();
        this.#sink?.closed(error);
    }
}
/**
 * The WebSockets transport over `ws`: text frames for text protocols, binary frames for binary ones.
 * It moves bytes between sockets and the hub's sink, nothing more.
 */
export class WebSocketTransport {
    #wss;
    #reconnectWindowMs;
    /** Connections with messages waiting; one microtask per turn flushes them all. */
    #dirty = [];
    #schedule = (connection) => {
        if (this.#dirty.length === 0)
            queueMicrotask(this.#flushAll);
        this.#dirty.push(connection);
    };
    #flushAll = () => {
        const dirty = this.#dirty;
        this.#dirty = [];
        for (const connection of dirty)
            connection.flush();
    };
    constructor(options) {
        // No permessage-deflate: it costs CPU and memory per connection for small event messages.
        this.#wss = new WebSocketServer({ noServer: true, maxPayload: options.maxPayload, perMessageDeflate: false });
        this.#reconnectWindowMs = options.reconnectWindowMs ?? 30000;
    }
    /** Completes the upgrade of a new connection and hands it to the hub. */
    accept(req, socket, head, target) {
        const connection = new WebSocketConnection(target.connectionId, target.request, target.supportsReconnect, this.#reconnectWindowMs, target.onFinished, this.#schedule);
        this.#wss.handleUpgrade(req, socket, head, (ws) => connection.attach(ws, target.handler));
        return connection;
    }
    /** Completes the upgrade of a socket that resumes a detached connection. */
    reattach(req, socket, head, connection) {
        this.#wss.handleUpgrade(req, socket, head, (ws) => connection.attach(ws, undefined));
    }
    /** Closes every open socket. */
    close() {
        for (const ws of this.#wss.clients)
            ws.terminate();
        this.#wss.close();
    }
}
