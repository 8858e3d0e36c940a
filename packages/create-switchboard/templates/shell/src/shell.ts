import {pageBus} from '@switchboard/bus';
import {ConnectionChanged, pageHub} from '@switchboard/signalr';
import {Greeted} from './contract';
import {mountApps} from './mount';

// One bus for the page: every app mounted below finds it, whatever framework it is written in.
const bus = pageBus().register(Greeted, ConnectionChanged);
const connection = document.querySelector<HTMLOutputElement>('#connection')!;
const latest = document.querySelector<HTMLOutputElement>('#latest')!;
bus.subscribe(ConnectionChanged, (event) => {
  connection.value = event.data.status;
});
bus.subscribe(Greeted, (event) => {
  latest.value = event.data.text;
});
// Only events published from now on arrive (earlier ones: GET /api/topics/greetings/events).
void pageHub('/hubs/events', bus).follow('greetings');
await mountApps(document.querySelector<HTMLElement>('#apps')!, '/apps.json');
