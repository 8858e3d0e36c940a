export {BusController} from './lib/bus-controller';
