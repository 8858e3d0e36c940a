export {HostContext, useBus, useCommand, useConnectionState, useEvent, useHub, useProjection, useRequest, useSource} from './lib/hooks.js';
export type {HookSubscribeOptions, ProjectionHookOptions, Requester} from './lib/hooks.js';
export {defineReactElement} from './lib/define-react-element.js';
export type {PropKind, ReactElementOptions} from './lib/define-react-element.js';
