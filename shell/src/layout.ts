import type {Layout} from '@switchboard/shell';

/** Which apps the demo shows where: the shop on `/`, operations on `/ops`, the React app on `/shipments`. */
export const layout: Layout = {
  routes: [
    {
      path: '/',
      slots: [
        {
          name: 'main',
          frameClass: 'tile',
          apps: ['order-form', 'order-tracker', 'inventory', 'notifications', 'live-metrics', 'activity-feed'],
        },
      ],
    },
    {path: '/ops', title: 'Operations', slots: [{name: 'main', frameClass: 'tile', apps: ['live-metrics', 'activity-feed']}]},
    {
      path: '/shipments',
      title: 'Shipments',
      slots: [{name: 'main', frameClass: 'tile', apps: ['order-lookup', 'notifications']}],
      // /shipments/<orderId>: the same apps, with the order tracker beside them.
      routes: [{path: ':orderId', title: 'Shipment', slots: [{name: 'side', frameClass: 'tile', apps: ['order-tracker']}]}],
    },
  ],
  notFound: {title: 'Not found', message: 'There is no page here. The shop is one click away.', slots: []},
};
