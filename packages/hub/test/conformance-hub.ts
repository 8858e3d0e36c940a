import {z} from 'zod';
import {HubError, uploadStream, type Hub} from '../src/index.js';

/** What the conformance hub observed, for assertions about the server side. */
export interface Observed {
  /** Server streams whose producer saw the client's cancellation. */
  cancelled: number;
  /** Connections that resumed on a new socket (stateful reconnect). */
  resumed: number;
}

/** Registers the methods the conformance suite calls: one per feature of the protocol. */
export function conformanceHub(hub: Hub): Observed {
  const observed: Observed = {cancelled: 0, resumed: 0};
  hub
    .method('echo', {params: {value: z.unknown()}, handler: ({value}) => value})
    .method('add', {params: {a: z.number(), b: z.number()}, handler: ({a, b}) => a + b})
    .method('big', {params: {length: z.number().int().max(200_000)}, handler: ({length}) => 'x'.repeat(length)})
    .method('fire', {
      params: {text: z.string()},
      handler: ({text}, {clients}) => {
        clients.caller.send('fired', text.toUpperCase());
      },
    })
    .method('join', {params: {group: z.string()}, handler: ({group}, {hub: h, caller}) => void h.addToGroup(caller, group)})
    .method('leave', {params: {group: z.string()}, handler: ({group}, {hub: h, caller}) => void h.removeFromGroup(caller, group)})
    .method('toGroup', {params: {group: z.string(), text: z.string()}, handler: ({group, text}, {hub: h}) => h.clients.group(group).send('groupMessage', text)})
    .method('toOthers', {params: {text: z.string()}, handler: ({text}, {clients}) => clients.others.send('othersMessage', text)})
    .method('toUser', {params: {user: z.string(), text: z.string()}, handler: ({user, text}, {hub: h}) => h.clients.user(user).send('userMessage', text)})
    .method('whoAmI', {params: {}, handler: (_args, {caller}) => caller.userId ?? null})
    .method('sum', {
      params: {numbers: uploadStream(z.number())},
      handler: async ({numbers}) => {
        let total = 0;
        for await (const n of numbers) total += n;
        return total;
      },
    })
    .method('askClient', {
      params: {question: z.number()},
      handler: async ({question}, {hub: h, caller}) => h.invokeClient<number>(caller.connectionId, 'getAnswer', [question], {timeoutMs: 5000}),
    })
    .method('fail', {
      params: {deliberate: z.boolean()},
      handler: ({deliberate}) => {
        throw deliberate ? new HubError('Out of stock.') : new Error('database password is hunter2');
      },
    })
    .method('kick', {
      params: {error: z.string().nullable(), allowReconnect: z.boolean()},
      handler: ({error, allowReconnect}, {hub: h, caller}) => {
        setTimeout(() => h.closeConnection(caller, error ?? undefined, allowReconnect), 10);
      },
    })
    .method('drop', {
      params: {},
      handler: (_args, {caller}) => {
        setTimeout(() => caller.abortTransport(), 10);
      },
    })
    .stream('counter', {
      params: {count: z.number().int(), delayMs: z.number().int()},
      handler: async function* ({count, delayMs}, {signal}) {
        try {
          for (let i = 0; i < count && !signal.aborted; i++) {
            yield i;
            await new Promise((r) => setTimeout(r, delayMs));
          }
        } finally {
          if (signal.aborted) observed.cancelled++;
        }
      },
    });
  return observed;
}
