/**
 * The demo's shell, a thin user of `@switchboard/shell`: its layout (routes → slots → apps), its
 * bus (the shop's contracts), its hub, and the page's own controls. The apps never see each other;
 * they see the bus.
 */
import {EventLog} from '@switchboard/devtools';
import {createShell} from '@switchboard/shell';
import {ChangeSettings, SETTINGS_TOPIC, SettingsChanged, shopHub, shopRegistry} from '@switchboard/shop-contracts';
import {ConnectionChanged, describeCommandError, pageHub, projection, type TransportName} from '@switchboard/signalr';
import {layout} from './layout';

// ?transport=ServerSentEvents (or LongPolling, WebSockets) pins the transport, e.g. to try a proxy;
// ?commandWaitMs=N sets how long a command sent while offline waits for the connection (default 10 s).
const query = new URLSearchParams(location.search);
const transports: readonly TransportName[] = ['WebSockets', 'ServerSentEvents', 'LongPolling'];
const transport = transports.find((t) => t === query.get('transport'));
const commandWaitMs = Number(query.get('commandWaitMs') ?? Number.NaN);

// The shell reads the composition (an error page and retries while it cannot), gives each app the
// publish rights its entry grants, and mounts the apps of the current route.
const shell = await createShell({
  root: document.getElementById('shell')!,
  layout,
  bus: {registry: shopRegistry()},
  // Topics follow interest: the bridge subscribes a topic while some app wants its types.
  hub: (bus) =>
    pageHub('/hubs/events', bus, {
      ...shopHub,
      ...(transport === undefined ? {} : {transport}),
      ...(Number.isFinite(commandWaitMs) && commandWaitMs >= 0 ? {commandWaitMs} : {}),
    }),
});
const {bus} = shell;
const hub = pageHub('/hubs/events', bus);

// The connection state is an event on the bus like any other: any app could show it.
const status = document.getElementById('hub-status')!;
const reason = document.getElementById('hub-reason')!;
bus.subscribe(ConnectionChanged, ({data}) => {
  status.textContent =
    data.status === 'reconnecting' && data.attempt !== undefined
      ? `reconnecting (attempt ${data.attempt}, next try in ${Math.ceil((data.retryInMs ?? 0) / 1000)} s)`
      : data.status;
  status.dataset['status'] = data.status;
  // Why the server refused the page (e.g. the token endpoint's "start it with PAGE_TOKEN_TTL=…"), in its words.
  reason.textContent = data.reason ?? '';
  reason.hidden = data.reason === undefined;
}, {name: 'shell'});

// The demo's one setting: how often payments fail, to see the saga compensate. It is a read model
// like the others: the server's value with its offset, then every settings.changed, in every tab.
const rate = document.getElementById('failure-rate') as HTMLSelectElement;
const rateError = document.getElementById('failure-rate-error')!;
let rateShown = '';
const showRate = (value: number): void => {
  rateShown = String(value);
  // A value the menu lacks (PAYMENT_FAILURE_RATE=0.5) still shows as itself.
  if (![...rate.options].some((o) => o.value === rateShown)) rate.add(new Option(`${Math.round(value * 100)}%`, rateShown));
  rate.value = rateShown;
};
projection<number>({
  hub,
  topics: [SETTINGS_TOPIC],
  snapshot: async (signal) => {
    const response = await hub.fetch('/api/settings', {signal});
    if (!response.ok) throw new Error(`GET /api/settings: ${response.status}`);
    const {paymentFailureRate, offsets} = (await response.json()) as {paymentFailureRate: number; offsets: Record<string, string | null>};
    return {state: paymentFailureRate, offsets};
  },
  apply: (value, e) => (e.type === SettingsChanged.type ? (e.data as {paymentFailureRate: number}).paymentFailureRate : value),
  onState: showRate,
});
rate.addEventListener('change', () => {
  const wanted = Number(rate.value);
  rateError.textContent = '';
  // Until the event comes back the menu shows the server's value: a change is a command, not a fact.
  rate.value = rateShown;
  rate.setAttribute('aria-busy', 'true');
  bus
    .send(ChangeSettings, {paymentFailureRate: wanted}, {source: 'shell', timeoutMs: 60_000})
    .catch((error: unknown) => (rateError.textContent = describeCommandError(error, 'The change')))
    .finally(() => rate.removeAttribute('aria-busy'));
});

// The event timeline, on demand.
EventLog.define();
const toggle = document.getElementById('devtools-toggle')!;
const devtools = document.getElementById('devtools')!;
toggle.addEventListener('click', () => {
  const open = devtools.hidden;
  devtools.hidden = !open;
  toggle.setAttribute('aria-expanded', String(open));
  if (open && devtools.querySelector('sb-event-log') === null) devtools.append(document.createElement('sb-event-log'));
  // Wherever the layout puts it (first on a phone, beside the apps on a wide screen), show it.
  if (open) devtools.scrollIntoView({block: 'nearest'});
});

// The page's links say which one is the current page.
const markCurrent = (): void => {
  for (const link of document.querySelectorAll<HTMLAnchorElement>('nav a')) {
    if (new URL(link.href).pathname === location.pathname) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
};
document.getElementById('shell')!.addEventListener('switchboard-route', markCurrent);
markCurrent();
