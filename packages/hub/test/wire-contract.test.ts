import type * as signalR from '@microsoft/signalr';
import {HubMethods, HubTargets, publishResultSchema, subscribeResultSchema, topicEventSchema} from '@switchboard/contracts';
import {afterEach, describe, expect, it} from 'vitest';
import type {SwitchboardServer} from '../src/index.js';
import {client, offsetAt, orderPlaced, startServer} from './helpers.js';

let server: SwitchboardServer | undefined;
const opened: signalR.HubConnection[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((c) => c.stop()));
  await server?.close();
  server = undefined;
});

describe('the wire contract of @switchboard/contracts', () => {
  it('describes exactly what the hub answers and pushes to the official client', async () => {
    let url: string;
    ({server, url} = await startServer());
    const connection = client(url);
    opened.push(connection);
    const pushed = new Promise<unknown>((resolve) => connection.on(HubTargets.event, resolve));
    await connection.start();

    const subscribed = await connection.invoke(HubMethods.subscribe, 'orders', null);
    expect(subscribeResultSchema.strict().parse(subscribed)).toEqual({topic: 'orders', offset: expect.stringMatching(/:0$/), truncated: false});

    const envelope = orderPlaced();
    const published = await connection.invoke(HubMethods.publish, 'orders', envelope);
    expect(publishResultSchema.strict().parse(published)).toEqual({offset: offsetAt(server!, 1)});
    expect(topicEventSchema.strict().parse(await pushed)).toEqual({topic: 'orders', offset: offsetAt(server!, 1), event: envelope});

    // The same envelope id again: the offset where it was kept, nothing new appended.
    expect(publishResultSchema.strict().parse(await connection.invoke(HubMethods.publish, 'orders', envelope))).toEqual({offset: offsetAt(server!, 1)});
    await connection.invoke(HubMethods.unsubscribe, 'orders');
  });
});
