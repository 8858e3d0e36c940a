export {BusKey, useBus, useCommand, useConnectionState, useEvent, useHub, useProjection, useRequest, useSource} from './lib/composables.js';
