/**
 * The default {@link TopicLog}: one bounded array per topic. Offsets are the decimal sequence
 * numbers 1, 2, 3…; clients must treat them as opaque.
 */
export class MemoryTopicLog {
    #topics = new Map();
    #defaults;
    #perTopic;
    #now;
    constructor(options = {}) {
        this.#defaults = { maxEvents: options.maxEvents ?? 10000, maxAgeMs: options.maxAgeMs ?? Number.POSITIVE_INFINITY };
        this.#perTopic = options.topics ?? {};
        this.#now = options.now ?? Date.now;
    }
    /** Events retained now per topic, for metrics. */
    sizes() {
        const sizes = new Map();
        for (const [topic, ring] of this.#topics) {
            this.#expire(ring);
            sizes.set(topic, ring.entries.length - ring.head);
        }
        return sizes;
    }
    append(topic, event) {
        const ring = this.#ring(topic);
        this.#expire(ring);
        const existing = ring.ids.get(event.id);
        if (existing !== undefined)
            return { offset: String(existing), duplicate: true };
        const seq = ring.next++;
        ring.entries.push({ seq, event, at: this.#now() });
        ring.ids.set(event.id, seq);
        while (ring.entries.length - ring.head > ring.maxEvents)
            this.#dropOldest(ring);
        return { offset: String(seq), duplicate: false };
    }
    read(topic, after, limit) {
        const ring = this.#topics.get(topic);
        const from = after === null ? 0 : Number(after);
        if (ring === undefined)
            return { entries: [], truncated: false, next: after };
        this.#expire(ring);
        // Events first..next-1 are retained; anything in (from, first) is lost.
        const truncated = from + 1 < ring.first;
        const start = ring.head + Math.max(0, from + 1 - ring.first);
        const entries = ring.entries
            .slice(start, start + Math.max(0, limit)).map((e) => ({ offset: String(e.seq), event: e.event }));
        return { entries, truncated, next: entries.length > 0 ? entries[entries.length - 1].offset : after };
    }
    head(topic) {
        const ring = this.#topics.get(topic);
        return ring === undefined || ring.next === 1 ? null : String(ring.next - 1);
    }
    isOffset(offset) {
        return /^(0|[1-9][0-9]{0,15})$/.test(offset);
    }
    #ring(topic) {
        let ring = this.#topics.get(topic);
        if (ring === undefined) {
            const own = this.#perTopic[topic] ?? {};
            ring = {
                first: 1,
                next: 1,
                entries: [],
                head: 0,
                ids: new Map(),
                maxEvents: own.maxEvents ?? this.#defaults.maxEvents,
                maxAgeMs: own.maxAgeMs ?? this.#defaults.maxAgeMs,
            };
            this.#topics.set(topic, ring);
        }
        return ring;
    }
    #expire(ring) {
        if (ring.maxAgeMs === Number.POSITIVE_INFINITY)
            return;
        const oldest = this.#now() - ring.maxAgeMs;
        while (ring.head < ring.entries.length && ring.entries[ring.head].at < oldest)
            this.#dropOldest(ring);
    }
    #dropOldest(ring) {
        const dropped = ring.entries[ring.head++];
        ring.ids.delete(dropped.event.id);
        ring.first = dropped.seq + 1;
        if (ring.head > 1024 && ring.head * 2 > ring.entries.length) {
            ring.entries = ring.entries.slice(ring.head);
            ring.head = 0;
        }
    }
}
