import {OrderTracker} from './order-tracker';

OrderTracker.define();

export {OrderTracker};
