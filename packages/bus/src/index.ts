export {Bus} from './lib/bus.js';
export type {BusStats} from './lib/bus.js';
export {isAppHost, markAppHost} from './lib/app-hosts.js';
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
} from './lib/bus-options.js';
export {
  AmbiguousResponderError,
  CausationLoopError,
  DuplicateHandlerError,
  EventValidationError,
  NoHandlerError,
  NoResponderError,
  PermissionError,
  RequestTimeoutError,
} from './lib/errors.js';
export {isWildcard, matcher, overlaps} from './lib/patterns.js';
export {SeenIds} from './lib/seen-ids.js';
export type {TypePattern} from './lib/patterns.js';
export type {HandlerRun, Origin, Outcome, TraceRecord} from './lib/trace.js';
export {shareAcrossTabs} from './lib/cross-tab.js';
export type {CrossTabOptions} from './lib/cross-tab.js';
export {installPageBus, pageBus} from './lib/page-bus.js';
export {busContext, ContextRequestEvent, provideBus, requestBus} from './lib/context.js';
export type {ContextCallback} from './lib/context.js';
