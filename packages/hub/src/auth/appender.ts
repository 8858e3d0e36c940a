import type {Principal} from '../transports/authenticator.js';

/**
 * Who appended an event to a topic: server code (the trusted path, `EventService.append`), or a
 * client through the hub's `publish`, the HTTP ingest or a RabbitMQ binding, with the principal its token proved
 * (undefined when anonymous). Listeners of appended events decide whom they trust from this.
 */
export type Appender =
  | {readonly kind: 'server'}
  | {
      readonly kind: 'client';
      readonly via: AppenderVia;
      readonly principal: Principal | undefined;
      /** Where the request came from, when known: anonymous clients are budgeted by it. */
      readonly remoteAddress?: string | undefined;
    };

/** The door a client's event came in by: the hub's `publish`, the HTTP ingest, or a RabbitMQ binding. */
export type AppenderVia = 'hub' | 'http' | 'amqp';

/** Server code: the only appender that may append server-owned types. */
export const SERVER: Appender = Object.freeze({kind: 'server'});

/** A client of `via` acting as `principal` (undefined: anonymous), from `remoteAddress` when known. */
export function clientAppender(via: AppenderVia, principal: Principal | undefined, remoteAddress?: string | undefined): Appender {
  return remoteAddress === undefined ? {kind: 'client', via, principal} : {kind: 'client', via, principal, remoteAddress};
}
