/**
 * `npm run services`: the shop's services (orders, inventory, payments, shipping, notifications)
 * in a process of their own, consuming their durable queues on the RabbitMQ broker at AMQP_URL.
 * Run any number of them beside a hub started with `AMQP_URL=… SHOP_SERVICES=external npm start`:
 * each event is handled by one of them. PAYMENT_FAILURE_RATE (0–1, default 0.2) and
 * SHIPPING_DELAY_MS (default 800) as for `npm start`; AMQP_QUEUE_TYPE (quorum, the default, or
 * classic) as the hub's. Ctrl-C (SIGINT) or SIGTERM stops it cleanly:
 * what it had not acknowledged goes back to the queues.
 */
import {createLogger} from '@switchboard/hub';
import {DEFAULT_QUEUE_TYPE, QUEUE_TYPES, redactAmqpUrl, type QueueType} from '@switchboard/rabbitmq';
import {RabbitServices} from './domain/rabbit/rabbit-services';

const url = process.env['AMQP_URL'];
if (url === undefined || url === '') {
  console.error('AMQP_URL is not set: the services consume from a RabbitMQ broker, e.g. AMQP_URL=amqp://guest:guest@localhost:5672 npm run services');
  process.exit(2);
}
const rate = Number(process.env['PAYMENT_FAILURE_RATE'] ?? 0.2);
const delay = Number(process.env['SHIPPING_DELAY_MS'] ?? 800);
if (!(rate >= 0 && rate <= 1) || !(delay >= 0)) {
  console.error('PAYMENT_FAILURE_RATE must be a number from 0 to 1 and SHIPPING_DELAY_MS a number of milliseconds');
  process.exit(2);
}
const queueType = (process.env['AMQP_QUEUE_TYPE'] ?? DEFAULT_QUEUE_TYPE) as QueueType;
if (!QUEUE_TYPES.includes(queueType)) {
  console.error(`AMQP_QUEUE_TYPE must be "quorum" or "classic" (got "${queueType}"), as the hub's`);
  process.exit(2);
}
const logger = createLogger().child({component: 'shop-services', pid: process.pid});
const services = new RabbitServices({url, logger, paymentFailureRate: rate, shippingDelayMs: delay, queueType, name: `switchboard-shop-services-${process.pid}`});
try {
  await services.start();
} catch (error) {
  console.error((error as Error).message);
  process.exit(1);
}
console.log(`The shop's services consume from RabbitMQ at ${redactAmqpUrl(url)}  Ctrl-C stops them.`);

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) process.exit(1);
    stopping = true;
    void services.close().finally(() => process.exit(0));
  });
}
