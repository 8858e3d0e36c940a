/** The single-process backplane: a synchronous loop back to this process's subscribers. */
export class MemoryBackplane {
    #receivers = new Set();
    publish(message) {
        for (const receive of this.#receivers)
            receive(message);
    }
    subscribe(receive) {
        this.#receivers.add(receive);
        return () => this.#receivers.delete(receive);
    }
    async close() {
        this.#receivers.clear();
    }
}
