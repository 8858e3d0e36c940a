/** The order fold lives with the shop's contracts, shared with the order tracker page. */
export {applyOrderEvent, ORDER_STEPS, ORDER_STREAM_TYPES, orderState} from '@switchboard/shop-contracts';
export type {OrderState, OrderStatus} from '@switchboard/shop-contracts';
