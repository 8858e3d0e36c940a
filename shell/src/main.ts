/**
 * The shell: one bus for the page, answering every element's bus request, and one hub connection
 * that brings the server's order events into it. The apps never see each other; they see the bus.
 */
import {Bus, installPageBus, provideBus} from '@switchboard/bus';
import {shopRegistry, shopTopics} from '@switchboard/shop-contracts';
import {ConnectionChanged, pageHub, type TransportName} from '@switchboard/signalr';

// Each app may publish only its own part of the contract; anything else is rejected and traced.
const bus = installPageBus(
  new Bus({
    registry: shopRegistry(),
    source: 'shell',
    permissions: {rules: {'mfe:shop-order-form': ['order.*'], 'mfe:shop-activity-feed': []}},
  }),
);
bus.attach(document);
provideBus(document.getElementById('shell')!, bus);

// ?transport=ServerSentEvents (or LongPolling, WebSockets) pins the transport, e.g. to try a proxy.
const pinned = new URLSearchParams(location.search).get('transport');
const transports: readonly TransportName[] = ['WebSockets', 'ServerSentEvents', 'LongPolling'];
const transport = transports.find((t) => t === pinned);
// Topics follow interest: the bridge subscribes a topic while some app wants its types.
pageHub('/hubs/events', bus, {topics: shopTopics, ...(transport === undefined ? {} : {transport})});

// The connection state is an event on the bus like any other: any app could show it.
const status = document.getElementById('hub-status')!;
bus.subscribe(ConnectionChanged, ({data}) => {
  status.textContent = data.status;
  status.dataset['status'] = data.status;
}, {name: 'shell'});

// The apps are loaded after the bus exists, so their first bus request is answered by the shell.
await Promise.all([import('@switchboard/app-order-form'), import('@switchboard/app-activity-feed')]);
