/**
 * The node-kill clients as a page has them: the official @microsoft/signalr client configured as
 * the page bridge configures it (automatic reconnect with the bridge's retry delays, stateful
 * reconnect, negotiate, WebSockets), behind a balancer that sends each new TCP connection to node B
 * and to node A once B refuses (as deploy/nginx.conf does when a node is down). After a reconnect,
 * Switchboard clients resubscribe from their offset, as the bridge does; ASP.NET clients need not.
 * Arguments: kind (`sb-topic` or `aspnet-redis`), port A, port B, count. IPC: see ./resume-report.ts.
 */
import {createConnection, createServer, type Socket} from 'node:net';
import type {AddressInfo} from 'node:net';
import * as signalR from '@microsoft/signalr';
import {retryDelay} from '../../packages/signalr/src/lib/retry-policy.js';
import type {Kind} from './node';
import {answerReports, now, type Client} from './resume-report';

const [kind, portA, portB, countArg] = process.argv.slice(2) as [Kind, string, string, string];
const count = Number(countArg);

/** Node B while it takes connections, else node A. */
function upstream(client: Socket, ports: readonly string[]): void {
  const up = createConnection({host: '127.0.0.1', port: Number(ports[0])});
  let connected = false;
  up.once('connect', () => {
    connected = true;
    client.pipe(up).pipe(client);
    client.resume();
  });
  up.once('error', () => {
    if (!connected && ports.length > 1) upstream(client, ports.slice(1));
    else client.destroy();
  });
  up.once('close', () => connected && client.destroy());
  client.once('close', () => up.destroy());
  client.once('error', () => up.destroy());
}
const balancer = createServer({pauseOnConnect: true}, (client) => upstream(client, [portB, portA]));
await new Promise<void>((resolve) => balancer.listen(0, '127.0.0.1', resolve));
const url = `http://127.0.0.1:${(balancer.address() as AddressInfo).port}/hubs/events`;

/** Notes when negotiate answered, the official client's HTTP calls otherwise unchanged. */
class TimedHttpClient extends signalR.DefaultHttpClient {
  readonly #client: Client;
  constructor(client: Client) {
    super(signalR.NullLogger.instance);
    this.#client = client;
  }
  override async send(request: signalR.HttpRequest): Promise<signalR.HttpResponse> {
    const response = await super.send(request);
    if (request.url?.includes('/negotiate') === true && this.#client.closedAt !== undefined) this.#client.negotiatedAt ??= now();
    return response;
  }
}

const clients: Client[] = Array.from({length: count}, () => ({seqs: [], offset: null, live: false, attempts: 0}));

async function open(c: Client): Promise<void> {
  const connection = new signalR.HubConnectionBuilder()
    .withUrl(url, {transport: signalR.HttpTransportType.WebSockets, httpClient: new TimedHttpClient(c)})
    .withAutomaticReconnect({
      nextRetryDelayInMilliseconds: (ctx) => {
        c.attempts++;
        return retryDelay(ctx.previousRetryCount + 1);
      },
    })
    .withStatefulReconnect()
    .configureLogging(signalR.LogLevel.None)
    .build();
  const subscribe = async (): Promise<void> => {
    if (kind !== 'sb-topic') return;
    await connection.invoke('subscribe', 'bench', c.offset);
  };
  connection.on('event', (m: {offset?: string; event?: {data: {seq: number}}; seq?: number}) => {
    if (m.offset !== undefined) c.offset = m.offset;
    c.seqs.push(m.event?.data.seq ?? m.seq!);
    if (c.closedAt !== undefined) c.firstAt ??= now();
  });
  connection.onreconnecting(() => (c.closedAt ??= now()));
  connection.onreconnected(() => {
    c.connectedAt ??= now();
    c.subscribeSentAt ??= now();
    void subscribe().then(() => (c.subscribedAt ??= now()));
  });
  await connection.start();
  await subscribe();
}

for (let i = 0; i < count; i += 20) await Promise.all(clients.slice(i, i + 20).map(open));
answerReports(clients);
process.send!({cmd: 'ready'});
