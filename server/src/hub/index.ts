export {Hub} from './hub';
export type {ClientProxy, HubArgs, HubMethod, HubOptions, HubParams, InvocationContext} from './hub';
export {HubConnection} from './hub-connection';
export type {ConnectionPhase} from './hub-connection';
export {HubError} from './hub-error';
