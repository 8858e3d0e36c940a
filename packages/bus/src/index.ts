export {Bus} from './lib/bus';
export type {BusOptions, DeadLetter, Handler, PublishOptions, Rejection, SubscribeOptions} from './lib/bus';
export {EventValidationError} from './lib/errors';
export {installPageBus, pageBus} from './lib/page-bus';
export {busContext, ContextRequestEvent, provideBus, requestBus} from './lib/context';
export type {ContextCallback} from './lib/context';
