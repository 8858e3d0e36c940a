export {BusController} from './lib/bus-controller';
export type {ControllerSubscribeOptions} from './lib/bus-controller';
