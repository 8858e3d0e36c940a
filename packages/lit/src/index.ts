export {BusController} from './lib/bus-controller.js';
export type {ControllerSubscribeOptions} from './lib/bus-controller.js';
export {SwitchboardElement} from './lib/switchboard-element.js';
