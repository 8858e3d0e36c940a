import type {Page} from '@playwright/test';
import {createEnvelope, type Contract, type Envelope, type EnvelopeOf, type EnvelopeOptions, type InputOf} from '@switchboard/contracts';
import {hookPageBus, ingestInPage, pageHubsInPage, RECORD_BINDING, type RecordFromPage} from './in-page.js';

/** One event as the page bus saw it: the envelope (when the input made one), where it came from, what became of it. */
export type SeenRecord = RecordFromPage;

/** Options of {@link PageBusProbe.waitForEvent}. */
export interface WaitForEventOptions<E extends Envelope = Envelope> {
  /** Only an event for which this returns true counts. */
  readonly where?: (envelope: E) => boolean;
  /** Milliseconds before giving up; default 10,000. */
  readonly timeout?: number;
}

interface Waiter {
  readonly accepts: (record: SeenRecord) => boolean;
  readonly resolve: (record: SeenRecord) => void;
}

const DEFAULT_TIMEOUT = 10_000;
/** Outcomes of an event that entered the bus as a valid envelope. */
const VALID = new Set(['delivered', 'unhandled']);

/**
 * A test's view of the page bus, from Node: every event the page's bus took (from apps, the DOM,
 * other tabs or the hub), waiting for one, publishing into the page, and the events that broke
 * their contract. Create it (or take the `bus` fixture) before the page loads its scripts.
 *
 * ```ts
 * const bus = await PageBusProbe.attach(page);
 * await page.goto('/');
 * await bus.publish(CartCleared, {cartId: 'c-1'});
 * const shipped = await bus.waitForEvent(OrderShipped, {where: (e) => e.data.orderId === 'o-1'});
 * ```
 */
export class PageBusProbe {
  readonly #page: Page;
  readonly #records: SeenRecord[] = [];
  readonly #waiters = new Set<Waiter>();
  /** Broken records a test waited for on purpose: not reported as failures. */
  readonly #expectedBroken = new Set<SeenRecord>();

  private constructor(page: Page) {
    this.#page = page;
  }

  /** Starts recording the page bus of `page` from the next navigation on. */
  static async attach(page: Page): Promise<PageBusProbe> {
    const probe = new PageBusProbe(page);
    await page.exposeFunction(RECORD_BINDING, (json: string) => probe.#add(JSON.parse(json) as SeenRecord));
    await page.addInitScript(hookPageBus, RECORD_BINDING);
    return probe;
  }

  /** Every record seen so far, in order, valid or not. */
  get records(): readonly SeenRecord[] {
    return [...this.#records];
  }

  /** The valid envelopes the page bus took (delivered or without a subscriber), in order. */
  get events(): readonly Envelope[] {
    return this.#records.filter((r) => VALID.has(r.outcome) && r.envelope !== undefined).map((r) => r.envelope as unknown as Envelope);
  }

  /** Records of inputs that broke their contract (`rejected`), except those a test waited for with {@link waitForBroken}. */
  get broken(): readonly SeenRecord[] {
    return this.#records.filter((r) => r.outcome === 'rejected' && !this.#expectedBroken.has(r));
  }

  /**
   * The first valid event of `target` (a contract or a type) that satisfies `where`, counting
   * events already seen in this test: no race between an action and the wait.
   */
  waitForEvent<C extends Contract>(target: C, options?: WaitForEventOptions<EnvelopeOf<C>>): Promise<EnvelopeOf<C>>;
  waitForEvent(target: string, options?: WaitForEventOptions): Promise<Envelope>;
  async waitForEvent(target: Contract | string, options: WaitForEventOptions<never> = {}): Promise<Envelope> {
    const type = typeof target === 'string' ? target : target.type;
    const where = (options.where ?? (() => true)) as (envelope: Envelope) => boolean;
    const record = await this.#wait(
      (r) => r.type === type && VALID.has(r.outcome) && r.envelope !== undefined && safely(where, r.envelope as unknown as Envelope),
      options.timeout,
      `an event "${type}"${options.where ? ' matching `where`' : ''}`,
    );
    return record.envelope as unknown as Envelope;
  }

  /**
   * The first input of `type` the page bus rejected as breaking its contract. A broken event a test
   * waits for this way is expected and does not fail the test.
   */
  async waitForBroken(type: string, options: {timeout?: number} = {}): Promise<SeenRecord> {
    const record = await this.#wait((r) => r.type === type && r.outcome === 'rejected', options.timeout, `a rejected "${type}"`);
    this.#expectedBroken.add(record);
    return record;
  }

  /**
   * Publishes `data` as an event of `contract` into the page bus (origin `test`), as if it came from
   * outside the page; throws with the page's reasons when the page rejects it.
   */
  async publish<C extends Contract>(contract: C, data: InputOf<C>, options: Partial<EnvelopeOptions> = {}): Promise<EnvelopeOf<C>> {
    const envelope = createEnvelope(contract, data, {source: 'test:playwright', ...options});
    const result = await this.#page.evaluate(ingestInPage, envelope);
    if (!result.ok) {
      const issues = result.issues.map((i) => `${i.path}: ${i.message}`).join('; ');
      throw new Error(`the page bus refused ${contract.type}: ${result.error}${issues ? ` (${issues})` : ''}`);
    }
    return envelope;
  }

  /**
   * Waits until one of the page's hub bridges follows `topic`. Pages follow topics by interest, so
   * a server event published earlier is rightly never shown: publish after this.
   */
  async waitForTopic(topic: string, options: {timeout?: number} = {}): Promise<void> {
    const deadline = Date.now() + (options.timeout ?? DEFAULT_TIMEOUT);
    for (;;) {
      const hubs = await this.#page.evaluate(pageHubsInPage);
      if (hubs.some((h) => h.status === 'connected' && h.following.includes(topic))) return;
      if (Date.now() > deadline) throw new Error(`no hub bridge of the page follows "${topic}" (bridges: ${JSON.stringify(hubs)})`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** A readable list of the broken records, for a failure message. */
  describeBroken(): string {
    return this.broken
      .map((r) => `  ${r.type} from ${r.source} (${r.origin}): ${r.error ?? 'rejected'}${r.issues?.length ? ` [${r.issues.map((i) => `${i.path}: ${i.message}`).join('; ')}]` : ''}`)
      .join('\n');
  }

  #add(record: SeenRecord): void {
    this.#records.push(record);
    for (const waiter of this.#waiters) if (waiter.accepts(record)) waiter.resolve(record);
  }

  #wait(accepts: (record: SeenRecord) => boolean, timeout = DEFAULT_TIMEOUT, what: string): Promise<SeenRecord> {
    const seen = this.#records.find(accepts);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        accepts,
        resolve: (record) => {
          clearTimeout(timer);
          this.#waiters.delete(waiter);
          resolve(record);
        },
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(waiter);
        const types = [...new Set(this.#records.map((r) => `${r.type} (${r.outcome})`))].join(', ') || 'none';
        reject(new Error(`waited ${timeout} ms for ${what} on the page bus; seen: ${types}`));
      }, timeout);
      this.#waiters.add(waiter);
    });
  }
}

/** A `where` that throws (say, on an event of another shape) does not match, rather than break the probe. */
function safely(where: (envelope: Envelope) => boolean, envelope: Envelope): boolean {
  try {
    return where(envelope);
  } catch {
    return false;
  }
}
