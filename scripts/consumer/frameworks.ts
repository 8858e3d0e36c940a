// The shell runtime and the React and Vue bindings, type-checked as a user installs them.
import {defineEvent} from '@switchboard/contracts';
import {useCommand as useReactCommand, useEvent as useReactEvent, defineReactElement} from '@switchboard/react';
import {createShell, matchRoute, type Layout} from '@switchboard/shell';
import {useEvent as useVueEvent} from '@switchboard/vue';
import {createElement, useState} from 'react';
import {z} from 'zod';

const Shipped = defineEvent({type: 'order.shipped', version: 1, schema: z.object({orderId: z.string()})});
const Restock = defineEvent({type: 'inventory.restock', version: 1, kind: 'command', schema: z.object({sku: z.string()})});

export const layout: Layout = {
  routes: [{path: '/', slots: [{name: 'main', apps: ['shipments']}]}, {path: '/orders/:id', slots: [{name: 'main', apps: ['order']}]}],
  notFound: {title: 'Not found'},
};
export const params: Readonly<Record<string, string>> = matchRoute(layout, '/orders/o-1').params;
export const start = (root: HTMLElement) => createShell({root, layout});

function Shipments() {
  const [ids, setIds] = useState<string[]>([]);
  useReactEvent(Shipped, (e) => setIds((list) => [e.data.orderId, ...list]));
  const restock = useReactCommand(Restock);
  return createElement('button', {onClick: () => void restock({sku: 'tea'})}, ids.join(', '));
}
export const element: CustomElementConstructor = defineReactElement('consumer-shipments', Shipments, {props: {limit: 'number'}});

export function vueSetup(): void {
  useVueEvent(Shipped, (e) => console.log(e.data.orderId));
}
