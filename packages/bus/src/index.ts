export {Bus} from './lib/bus';
export type {
  BusOptions,
  DeadLetter,
  Handler,
  PublishOptions,
  PublishPermissions,
  Rejection,
  RequestOptions,
  RetryPolicy,
  SubscribeOptions,
} from './lib/bus';
export {
  AmbiguousResponderError,
  CausationLoopError,
  DuplicateHandlerError,
  EventValidationError,
  NoHandlerError,
  NoResponderError,
  PermissionError,
  RequestTimeoutError,
} from './lib/errors';
export {isWildcard, matcher, overlaps} from './lib/patterns';
export type {TypePattern} from './lib/patterns';
export type {HandlerRun, Origin, Outcome, TraceRecord} from './lib/trace';
export {shareAcrossTabs} from './lib/cross-tab';
export type {CrossTabOptions} from './lib/cross-tab';
export {installPageBus, pageBus} from './lib/page-bus';
export {busContext, ContextRequestEvent, provideBus, requestBus} from './lib/context';
export type {ContextCallback} from './lib/context';
