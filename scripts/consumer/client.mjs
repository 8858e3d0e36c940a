// The official @microsoft/signalr client in plain Node: subscribe, have something published over
// HTTP, print the pushed event as one JSON line.
import * as signalR from '@microsoft/signalr';
import {createEnvelope, HubMethods, HubTargets, topicEventSchema} from '@switchboard/contracts';
import {Greeted} from './contracts.mjs';

const base = process.argv[2];
const connection = new signalR.HubConnectionBuilder().withUrl(`${base}/hubs/events`).configureLogging(signalR.LogLevel.None).build();
const pushed = new Promise((resolve) => connection.on(HubTargets.event, resolve));
await connection.start();
await connection.invoke(HubMethods.subscribe, 'greetings', null);
const envelope = createEnvelope(Greeted, {text: 'hello from node'}, {source: 'consumer:client'});
const response = await fetch(`${base}/api/topics/greetings/events`, {method: 'POST', headers: {'content-type': 'application/json'}, body: JSON.stringify(envelope)});
if (response.status !== 202) throw new Error(`POST answered ${response.status}: ${await response.text()}`);
const message = topicEventSchema.parse(await pushed);
console.log(JSON.stringify(message));
await connection.stop();
// The client keeps a keep-alive socket from negotiate for a few seconds: end now.
process.exit(0);
