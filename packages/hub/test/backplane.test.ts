import * as signalR from '@microsoft/signalr';
import {afterEach, describe, expect, it} from 'vitest';
import {z} from 'zod';
import {MemoryBackplane, type SwitchboardServer} from '../src/index.js';
import {client, startServer} from './helpers.js';

const servers: SwitchboardServer[] = [];
const opened: signalR.HubConnection[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((c) => c.stop()));
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

describe('a backplane shared by two hub processes', () => {
  it('delivers a send on one hub to group members and users connected to the other', async () => {
    const backplane = new MemoryBackplane();
    const urls: string[] = [];
    for (let i = 0; i < 2; i++) {
      const {server, url} = await startServer({hub: {backplane}});
      server.hub.method('join', {params: {group: z.string()}, handler: ({group}, {hub, caller}) => hub.addToGroup(caller, group)});
      servers.push(server);
      urls.push(url);
    }
    const onA = client(urls[0]!);
    opened.push(onA);
    await onA.start();
    await onA.invoke('join', 'tea');
    const got = new Promise((resolve) => onA.on('news', resolve));
    // Sent by the other hub, which has no member of the group itself.
    servers[1]!.hub.clients.group('tea').send('news', 'restocked');
    expect(await got).toBe('restocked');
    expect(servers[1]!.hub.groupSize('tea')).toBe(0);
  });
});
