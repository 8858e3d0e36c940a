// Type-checked only: a typed server against @switchboard/hub's declarations.
import {ContractRegistry, createEnvelope, defineEvent, type PublishResult, type SubscribeResult, type TopicEvent} from '@switchboard/contracts';
import {SwitchboardServer, type PublishOutcome} from '@switchboard/hub';
import {z} from 'zod';

const Pinged = defineEvent({type: 'ping.sent', version: 1, description: 'A ping.', schema: z.object({n: z.number().int()})});
const server = new SwitchboardServer({registry: new ContractRegistry().register(Pinged)});
const url: string = await server.listen(0);
const outcome = await server.events.publish('pings', createEnvelope(Pinged, {n: 1}, {source: 'check'}));
if (outcome.ok) {
  const result: PublishOutcome = outcome.value;
  const wire: PublishResult = result;
  console.log(url, wire.offset, result.duplicate);
}
export type Shapes = [SubscribeResult, TopicEvent];
// @ts-expect-error: data must match the contract
createEnvelope(Pinged, {n: 'one'}, {source: 'check'});
await server.close();

// @switchboard/testing's hub, typed for a user's test suite.
import {TestHub} from '@switchboard/testing';
const hub = await TestHub.start({contracts: [Pinged]});
const sent = await hub.publish('pings', Pinged, {n: 2});
const n: number = sent.data.n;
console.log(n, hub.hubUrl, hub.dropConnections('reconnect'));
await hub.close();
