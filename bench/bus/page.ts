/**
 * The page side of the bus benchmark: each case delivers one small event to `subscribers` handlers,
 * as raw EventTarget + CustomEvent, mitt, and the Switchboard bus (validating, not validating, and
 * not validating with tracing off). Runs in Chromium, driven by bench/bus/run.ts.
 */
import {Bus} from '@switchboard/bus';
import {defineEvent} from '@switchboard/contracts';
import {MessageBus} from '@podium/browser';
import {EventBus} from '@trutoo/event-bus';
import mitt from 'mitt';
import {z} from 'zod';

const Clicked = defineEvent({type: 'ui.clicked', schema: z.object({x: z.number(), y: z.number(), target: z.string()})});
const data = {x: 10, y: 20, target: 'buy'};

/** The same shape as JSON Schema (draft-04), for @trutoo/event-bus. */
const clickedJsonSchema = {
  type: 'object',
  required: ['x', 'y', 'target'],
  properties: {x: {type: 'number'}, y: {type: 'number'}, target: {type: 'string'}},
};

/** Podium's buses share one emitter per page (a global): each setup gets a channel of its own. */
let podiumChannels = 0;

/** A case: given n subscribers that count, a function that delivers one event. */
type Case = (subscribers: number, count: () => void) => () => void;

const cases: Record<string, Case> = {
  'EventTarget + CustomEvent': (n, count) => {
    const target = new EventTarget();
    // EventTarget ignores a listener added twice: each subscriber gets its own function.
    for (let i = 0; i < n; i++) target.addEventListener('ui.clicked', () => count());
    return () => void target.dispatchEvent(new CustomEvent('ui.clicked', {detail: data}));
  },
  mitt: (n, count) => {
    const emitter = mitt<{'ui.clicked': typeof data}>();
    for (let i = 0; i < n; i++) emitter.on('ui.clicked', () => count());
    return () => emitter.emit('ui.clicked', data);
  },
  // Peers that do comparable work: an envelope with a timestamp and a replay log (Podium) ...
  '@podium/browser MessageBus': (n, count) => {
    const bus = new MessageBus();
    const channel = `bench-${podiumChannels++}`;
    for (let i = 0; i < n; i++) bus.subscribe(channel, 'clicked', () => count());
    return () => void bus.publish(channel, 'clicked', data);
  },
  // ... and validation of every payload against a schema (Trutoo, JSON Schema).
  '@trutoo/event-bus, JSON Schema': (n, count) => {
    const bus = new EventBus();
    bus.register('ui:clicked', clickedJsonSchema);
    for (let i = 0; i < n; i++) bus.subscribe('ui:clicked', () => count());
    return () => bus.publish('ui:clicked', data);
  },
  'bus, validating': (n, count) => {
    const bus = new Bus({source: 'bench'});
    for (let i = 0; i < n; i++) bus.subscribe(Clicked, () => count());
    return () => void bus.publish(Clicked, data);
  },
  'bus, validation off': (n, count) => {
    const bus = new Bus({source: 'bench', validation: 'boundaries'});
    for (let i = 0; i < n; i++) bus.subscribe(Clicked, () => count());
    return () => void bus.publish(Clicked, data);
  },
  'bus, validation and tracing off': (n, count) => {
    const bus = new Bus({source: 'bench', validation: 'boundaries', traceCapacity: 0});
    for (let i = 0; i < n; i++) bus.subscribe(Clicked, () => count());
    return () => void bus.publish(Clicked, data);
  },
};

/** Events per second of one case, over about `ms` milliseconds. */
function measure(name: string, subscribers: number, ms: number): number {
  let delivered = 0;
  const deliver = cases[name]!(subscribers, () => void delivered++);
  for (let i = 0; i < 2000; i++) deliver(); // warm up
  let events = 0;
  const start = performance.now();
  let now = start;
  while (now - start < ms) {
    for (let i = 0; i < 1000; i++) deliver();
    events += 1000;
    now = performance.now();
  }
  if (delivered < events * subscribers) throw new Error(`${name}: handlers missed events`);
  return events / ((now - start) / 1000);
}

declare global {
  interface Window {
    bench: {names: string[]; measure: typeof measure};
  }
}
window.bench = {names: Object.keys(cases), measure};
document.body.dataset['ready'] = 'true';
