/**
 * One RabbitMQ-to-browser path under test, in its own process (so its CPU is its own and the
 * harness's publisher does not share its event loop). argv: kind, AMQP URL, routing keys (comma
 * separated) of the `bench` exchange it takes.
 *
 * - `switchboard`: a SwitchboardServer whose @switchboard/rabbitmq ingest binds a durable quorum
 *   queue to the exchange and appends each envelope to the `bench` topic; clients subscribe to it.
 * - `socketio`: the bridge people write by hand: an `amqplib` consumer on an exclusive server-named
 *   queue, each message parsed and `io.emit`ted to every Socket.IO client. When the broker goes
 *   away it reconnects (every 300 ms) and declares a fresh queue, as a careful hand-written bridge does.
 *
 * IPC: sends {cmd: 'ready', port} once it serves; {cmd: 'clients'} → {cmd: 'clients', count}.
 * Exits when the harness goes away.
 */
import {randomBytes} from 'node:crypto';
import {createServer} from 'node:http';
import type {AddressInfo} from 'node:net';
import amqp from 'amqplib';
import {ContractRegistry} from '@switchboard/contracts';
import {MemoryTopicLog, SwitchboardServer} from '@switchboard/hub';
import {RabbitBridge} from '@switchboard/rabbitmq';
import {pino} from 'pino';
import {Server as SocketIOServer} from 'socket.io';
import {BenchTick, EXCHANGE, TOPIC} from './shared';

const [kind, amqpUrl, keysArg] = process.argv.slice(2) as ['switchboard' | 'socketio', string, string];
const routingKeys = keysArg.split(',');
process.on('disconnect', () => process.exit(0));

let port: number;
let clientCount: () => number;

if (kind === 'switchboard') {
  // Long keep-alive and client timeout: idle bench clients send nothing.
  const server = new SwitchboardServer({
    registry: new ContractRegistry().register(BenchTick),
    logger: pino({level: 'silent'}),
    log: new MemoryTopicLog(),
    hub: {keepAliveIntervalMs: 600_000, clientTimeoutMs: 600_000},
  });
  await server.listen(0);
  port = server.port;
  clientCount = () => server.hub.connectionCount;
  const bridge = new RabbitBridge({
    url: amqpUrl,
    server,
    maxRetryDelayMs: 500,
    ingest: [{topic: TOPIC, queue: `bench.${randomBytes(4).toString('hex')}`, exchange: EXCHANGE, routingKeys, as: 'server'}],
  });
  await bridge.start();
} else {
  const http = createServer();
  const io = new SocketIOServer(http, {transports: ['websocket'], serveClient: false, pingInterval: 600_000, pingTimeout: 600_000});
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  port = (http.address() as AddressInfo).port;
  clientCount = () => io.engine.clientsCount;
  const consume = async (): Promise<void> => {
    const connection = await amqp.connect(amqpUrl);
    const channel = await connection.createChannel();
    const reconnect = (): void => void setTimeout(() => void consume().catch(reconnect), 300);
    connection.on('error', () => {});
    connection.once('close', reconnect);
    await channel.assertExchange(EXCHANGE, 'topic', {durable: true});
    const {queue} = await channel.assertQueue('', {exclusive: true});
    for (const key of routingKeys) await channel.bindQueue(queue, EXCHANGE, key);
    await channel.prefetch(100);
    await channel.consume(queue, (message) => {
      if (message === null) return;
      io.emit('event', JSON.parse(message.content.toString()));
      channel.ack(message);
    });
  };
  await consume();
}

process.on('message', (msg: {cmd: string}) => {
  if (msg.cmd === 'clients') process.send!({cmd: 'clients', count: clientCount()});
});
process.send!({cmd: 'ready', port});
