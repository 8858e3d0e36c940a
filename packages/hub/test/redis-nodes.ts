import type * as signalR from '@microsoft/signalr';
import {z} from 'zod';
import {redisEngine, type RedisEngine, type RedisEngineOptions, type SwitchboardServer} from '../src/index.js';
import {startServer} from './helpers.js';

/**
 * A hub node on Redis: a server with the Redis engine, `join` (to a group) and user ids from the
 * access token; the token `ops` also carries the `metrics` scope that `/metrics` needs.
 */
export async function startNode(url: string, options: Partial<RedisEngineOptions> = {}): Promise<{server: SwitchboardServer; url: string; engine: RedisEngine}> {
  const engine = redisEngine({url, ...options});
  const node = await startServer({
    engine,
    endpoint: {authenticate: ({token}) => ({userId: token ?? 'anonymous', ...(token === 'ops' ? {claims: {scope: 'metrics'}} : {})})},
  });
  node.server.hub.method('join', {params: {group: z.string()}, handler: ({group}, {hub, caller}) => hub.addToGroup(caller, group)});
  node.server.hub.method('whoami', {params: {}, handler: (_, {caller}) => caller.connectionId});
  return {...node, engine};
}

/** Resolves once `check` holds; rejects after `ms`. */
export async function until(check: () => boolean, ms = 15_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`${what} not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Records the ids of the events a client receives, in order. */
export function recordEvents(connection: signalR.HubConnection): string[] {
  const ids: string[] = [];
  connection.on('event', ({event}: {event: {id: string}}) => void ids.push(event.id));
  return ids;
}
