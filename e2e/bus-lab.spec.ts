import {expect, test, type Page} from '@playwright/test';
import {pageErrors} from './support';

/** The lab page: the kit from source, exposed as `window.lab`. */
const LAB = `http://127.0.0.1:${process.env['SB_E2E_LAB_PORT']}/`;

async function openLab(page: Page): Promise<void> {
  await page.goto(LAB);
  await expect(page.locator('body')).toHaveAttribute('data-ready', 'true');
}

test.describe('the bus in Chromium', () => {
  test('routes a composed CustomEvent out of nested shadow roots, naming the nearest custom element as source', async ({page}) => {
    const errors = pageErrors(page);
    await openLab(page);
    const result = await page.evaluate(() => {
      const {Bus, defineEvent, z} = window.lab;
      const Added = defineEvent({type: 'cart.added', schema: z.object({sku: z.string()})});
      const bus = new Bus({onReject: () => {}});
      bus.register(Added);
      bus.attach(document);
      const got: string[] = [];
      bus.subscribe(Added, (e) => void got.push(`${e.source}:${e.data.sku}`));
      // <outer-app> → shadow → <inner-widget> → open or closed shadow → <button>
      for (const mode of ['open', 'closed'] as const) {
        const outer = document.body.appendChild(document.createElement('outer-app'));
        const inner = outer.attachShadow({mode: 'open'}).appendChild(document.createElement('inner-widget'));
        const button = inner.attachShadow({mode}).appendChild(document.createElement('button'));
        button.dispatchEvent(new CustomEvent('cart.added', {detail: {sku: mode}, bubbles: true, composed: true}));
        // Not composed: it stays inside its shadow root, as the DOM says.
        button.dispatchEvent(new CustomEvent('cart.added', {detail: {sku: 'contained'}, bubbles: true}));
      }
      // A plain element of the page, no custom element around it.
      const legacy = document.body.appendChild(document.createElement('div'));
      legacy.dispatchEvent(new CustomEvent('cart.added', {detail: {sku: 'legacy'}, bubbles: true}));
      return got;
    });
    expect(result).toEqual(['mfe:inner-widget:open', 'mfe:inner-widget:closed', 'dom:div:legacy']);
    expect(errors).toEqual([]);
  });

  test('answers a context request from inside shadow DOM with the provided bus, else the page bus', async ({page}) => {
    await openLab(page);
    const result = await page.evaluate(() => {
      const {Bus, provideBus, requestBus, pageBus} = window.lab;
      const shell = document.body.appendChild(document.createElement('sb-shell'));
      const provided = new Bus();
      provideBus(shell, provided);
      const app = shell.attachShadow({mode: 'open'}).appendChild(document.createElement('some-app'));
      const deep = app.attachShadow({mode: 'open'}).appendChild(document.createElement('span'));
      const orphan = document.body.appendChild(document.createElement('other-app'));
      return {
        deep: requestBus(deep) === provided,
        orphanIsPageBus: requestBus(orphan) === pageBus(),
        orphanIsNotProvided: requestBus(orphan) !== provided,
      };
    });
    expect(result).toEqual({deep: true, orphanIsPageBus: true, orphanIsNotProvided: true});
  });

  test('shares chosen types with another tab over BroadcastChannel, once each', async ({context}) => {
    const [a, b] = [await context.newPage(), await context.newPage()];
    await Promise.all([openLab(a), openLab(b)]);
    const setup = () => {
      const {Bus, defineEvent, shareAcrossTabs, z} = window.lab;
      const Cart = defineEvent({type: 'cart.updated', schema: z.object({items: z.number()})});
      const Local = defineEvent({type: 'ui.clicked', schema: z.object({})});
      const bus = new Bus();
      bus.register(Cart, Local);
      shareAcrossTabs(bus, {types: ['cart.*'], channel: 'lab'});
      const got: string[] = [];
      bus.subscribe('*', (e) => void got.push(`${e.type}`));
      (window as unknown as {tab: unknown}).tab = {
        got,
        publish: (items: number) => {
          bus.publish(Cart, {items});
          bus.publish(Local, {});
        },
        origins: () => bus.inspect().map((r) => `${r.type}<${r.origin}`),
      };
    };
    await a.evaluate(setup);
    await b.evaluate(setup);
    await a.evaluate(() => (window as unknown as {tab: {publish: (n: number) => void}}).tab.publish(3));
    await expect.poll(() => b.evaluate(() => (window as unknown as {tab: {got: string[]}}).tab.got)).toEqual(['cart.updated']);
    await a.waitForTimeout(100);
    expect(await a.evaluate(() => (window as unknown as {tab: {got: string[]}}).tab.got)).toEqual(['cart.updated', 'ui.clicked']);
    expect(await b.evaluate(() => (window as unknown as {tab: {origins: () => string[]}}).tab.origins())).toEqual(['cart.updated<tab']);
  });

  test('a Lit element remounted 1,000 times leaves no subscription behind', async ({page}) => {
    const errors = pageErrors(page);
    await openLab(page);
    const result = await page.evaluate(async () => {
      const {Bus, BusController, LitElement, html, defineEvent, provideBus, z} = window.lab;
      const Tick = defineEvent({type: 'clock.tick', schema: z.object({n: z.number()})});
      class TickCounter extends LitElement {
        static override properties = {count: {state: true}};
        declare count: number;
        readonly bus = new BusController(this);
        constructor() {
          super();
          this.count = 0;
          this.bus.subscribe(Tick, () => {
            this.count++;
          });
          this.bus.subscribe('clock.*', () => {});
        }
        override render() {
          return html`${this.count}`;
        }
      }
      customElements.define('tick-counter', TickCounter);
      const host = document.body.appendChild(document.createElement('div'));
      const bus = new Bus();
      provideBus(host, bus);
      const element = document.createElement('tick-counter') as InstanceType<typeof TickCounter>;
      const counts: number[] = [];
      for (let i = 0; i < 1000; i++) {
        host.appendChild(element);
        counts.push(bus.subscriberCount);
        element.remove();
      }
      const afterRemounts = bus.subscriberCount;
      bus.publish(Tick, {n: 1});
      const countWhileDetached = element.count;
      host.appendChild(element);
      bus.publish(Tick, {n: 2});
      await element.updateComplete;
      return {
        whileMounted: [...new Set(counts)],
        afterRemounts,
        countWhileDetached,
        countAfterRemount: element.count,
        rendered: element.shadowRoot!.textContent,
        whileMountedAgain: bus.subscriberCount,
      };
    });
    expect(result).toEqual({whileMounted: [2], afterRemounts: 0, countWhileDetached: 0, countAfterRemount: 1, rendered: '1', whileMountedAgain: 2});
    expect(errors).toEqual([]);
  });
});
