/**
 * The benchmark's producer: a service publishing to the `bench` exchange over AMQP with publisher
 * confirms, in the harness's process. Bursts and fixed rates for the throughput and latency runs;
 * {@link steadyStream} for the broker restart, an at-least-once producer that keeps what the broker
 * has not confirmed and publishes it again after reconnecting.
 */
import amqp, {type ChannelModel, type ConfirmChannel} from 'amqplib';
import {EXCHANGE, tick} from './shared';

/** A confirm channel on a connection to `url`, the exchange declared. */
export async function openPublisher(url: string): Promise<{channel: ConfirmChannel; close(): Promise<void>}> {
  const connection = await amqp.connect(url);
  connection.on('error', () => {});
  const channel = await connection.createConfirmChannel();
  await channel.assertExchange(EXCHANGE, 'topic', {durable: true});
  return {channel, close: () => connection.close().catch(() => {})};
}

/** Publishes `count` messages (sequence numbers from `first`) as fast as the channel takes them, then waits for their confirms. */
export async function burst(channel: ConfirmChannel, key: string, first: number, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    if (!channel.publish(EXCHANGE, key, tick(first + i))) await new Promise((r) => channel.once('drain', r));
  }
  await channel.waitForConfirms();
}

/** Publishes `count` messages, `perSecond` a second (sequence numbers from `first`), then waits for their confirms. */
export async function atRate(channel: ConfirmChannel, key: string, first: number, count: number, perSecond: number): Promise<void> {
  const interval = 1000 / perSecond;
  let next = performance.now();
  for (let i = 0; i < count; ) {
    while (i < count && next <= performance.now()) {
      channel.publish(EXCHANGE, key, tick(first + i++));
      next += interval;
    }
    await new Promise((r) => setTimeout(r, Math.max(0, next - performance.now())));
  }
  await channel.waitForConfirms();
}

/**
 * Publishes sequence numbers 0, 1, … `perSecond` times a second until `stop()`, persistent, across
 * the broker going away: unconfirmed messages are kept and published again (in order) once a new
 * connection is open, so every sequence number reaches the exchange at least once.
 */
export function steadyStream(url: string, key: string, perSecond: number): {readonly generated: number; stop(): void; settled(timeoutMs: number): Promise<void>} {
  const unconfirmed = new Map<number, Buffer>();
  let channel: ConfirmChannel | undefined;
  let connection: ChannelModel | undefined;
  let seq = 0;
  let stopped = false;
  let closed = false;
  const send = (s: number, body: Buffer): void => {
    channel?.publish(EXCHANGE, key, body, {persistent: true}, (error) => {
      if (error === null || error === undefined) unconfirmed.delete(s);
    });
  };
  const connect = async (): Promise<void> => {
    while (!closed) {
      try {
        const c = await amqp.connect(url);
        c.on('error', () => {});
        const ch = await c.createConfirmChannel();
        ch.on('error', () => {});
        await ch.assertExchange(EXCHANGE, 'topic', {durable: true});
        connection = c;
        channel = ch;
        c.once('close', () => {
          channel = undefined;
          connection = undefined;
          void connect();
        });
        for (const [s, body] of [...unconfirmed].sort((a, b) => a[0] - b[0])) send(s, body);
        return;
      } catch {
        await new Promise((r) => setTimeout(r, 300));
      }
    }
  };
  void connect();
  const timer = setInterval(() => {
    if (stopped) return;
    const s = seq++;
    const body = tick(s);
    unconfirmed.set(s, body);
    send(s, body);
  }, 1000 / perSecond);
  return {
    get generated() {
      return seq;
    },
    stop() {
      stopped = true;
      clearInterval(timer);
    },
    async settled(timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      while (unconfirmed.size > 0) {
        if (Date.now() > deadline) throw new Error(`the producer's ${unconfirmed.size} messages were not confirmed within ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 100));
      }
      closed = true;
      await connection?.close().catch(() => {});
    },
  };
}
