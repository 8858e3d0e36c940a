import {defineReactElement} from '@switchboard/react';
import {OrderLookup, styles} from './order-lookup';

/** `<shop-order-lookup limit="10">`: the React app as a custom element, styles in its shadow root. */
export const OrderLookupElement = defineReactElement('shop-order-lookup', OrderLookup, {props: {limit: 'number'}, styles});
