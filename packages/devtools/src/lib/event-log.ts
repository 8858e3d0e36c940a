import {requestBus, type TraceRecord} from '@switchboard/bus';
import type {Envelope} from '@switchboard/contracts';
import {css, html, LitElement, nothing, type TemplateResult} from 'lit';
import {causalTree, type CausalNode} from './causal-tree.js';
import {overridesPanel} from './overrides-panel.js';

/** Records kept on screen. */
const MAX_RECORDS = 300;

/**
 * Every event on the page, newest first, with its type, source, time, origin, validation outcome
 * and number of handlers; filter by type, source, ids or data (an order id: every event of that
 * order's flow stays listed, its root command included); pick an event to see its whole causal
 * chain (every event of its correlationId, as a tree by causationId), across apps and the server,
 * where each node opens (Enter or Space) to show its data. Everything works from the keyboard.
 *
 * @summary The Switchboard event timeline.
 * @tagname sb-event-log
 * @csspart record - one event in the list.
 * @csspart chain - the causal chain of the picked event.
 * @csspart overrides - the local overrides panel (where the page's composition allows them).
 */
export class EventLog extends LitElement {
  static readonly tag = 'sb-event-log';

  /** Registers the element under {@link EventLog.tag}, once, however many bundles call it. */
  static define(): void {
    if (!customElements.get(EventLog.tag)) customElements.define(EventLog.tag, EventLog);
  }

  static override properties = {records: {state: true}, filter: {state: true}, picked: {state: true}};

  static override styles = css`
    :host { display: block; font: 0.85rem/1.4 ui-monospace, monospace; }
    input { font: inherit; width: 100%; box-sizing: border-box; padding: 0.3rem; margin-bottom: 0.5rem; border: 1px solid var(--sb-border, #c8ccd4); border-radius: 4px; }
    ol { list-style: none; margin: 0; padding: 0; max-height: 24rem; overflow: auto; }
    li button, .columns { all: unset; display: grid; grid-template-columns: 9ch 1fr 8ch; gap: 0.5rem; width: 100%; box-sizing: border-box; padding: 0.15rem 0.3rem; }
    li button { cursor: pointer; }
    li button:hover, li button:focus-visible, li button[aria-current='true'] { background: var(--sb-bg, #eef0f3); }
    li button:focus-visible { outline: 2px solid var(--sb-focus, #3b5bdb); outline-offset: -2px; }
    .columns { color: var(--sb-muted, #5c6370); border-bottom: 1px solid var(--sb-border, #c8ccd4); margin-bottom: 0.2rem; }
    .count { text-align: right; }
    .vh { position: absolute; width: 1px; height: 1px; overflow: hidden; clip-path: inset(50%); white-space: nowrap; }
    summary { cursor: pointer; }
    summary:focus-visible { outline: 2px solid var(--sb-focus, #3b5bdb); }
    pre { margin: 0.2rem 0 0.3rem; white-space: pre-wrap; overflow-wrap: anywhere; background: var(--sb-bg, #eef0f3); padding: 0.3rem; border-radius: 4px; }
    .outcome-rejected, .outcome-forbidden, .outcome-loop, .outcome-unhandled { color: var(--sb-bad, #c92a2a); }
    .outcome-duplicate { color: var(--sb-muted, #5c6370); }
    .source { color: var(--sb-muted, #5c6370); }
    .chain { margin-top: 0.75rem; border-top: 1px solid var(--sb-border, #c8ccd4); padding-top: 0.5rem; }
    .chain ul { list-style: none; margin: 0; padding-left: 1.2rem; border-left: 1px dotted var(--sb-border, #c8ccd4); }
    .chain > ul { padding-left: 0; border: 0; }
    .overrides { margin-bottom: 0.5rem; }
    .overrides ul { list-style: none; margin: 0.3rem 0; padding: 0; }
    .overrides li { display: flex; gap: 0.3rem; align-items: end; margin-bottom: 0.2rem; }
    .overrides label { flex: 1; }
    .overrides input { margin: 0; }
    .override-state { color: var(--sb-muted, #5c6370); }
    .overrides [data-state='refused'] .override-state, .overrides [data-allowed='false'] p { color: var(--sb-bad, #c92a2a); }
  `;

  declare records: readonly TraceRecord[];
  declare filter: string;
  declare picked: Envelope | undefined;
  #stop: (() => void) | undefined;

  constructor() {
    super();
    this.records = [];
    this.filter = '';
  }

  override connectedCallback(): void {
    super.connectedCallback();
    const bus = requestBus(this);
    this.records = bus.inspect().slice(-MAX_RECORDS);
    this.#stop = bus.onTrace((record) => {
      this.records = [...this.records.slice(-(MAX_RECORDS - 1)), record];
    });
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.#stop?.();
  }

  override render() {
    const needle = this.filter.trim().toLowerCase();
    // A flow is kept whole: filtering by an order id also keeps its root command, whose data names no order.
    const flows = new Set(needle === '' ? [] : this.records.filter((r) => matches(r, needle)).flatMap((r) => (r.envelope === undefined ? [] : [r.envelope.correlationId])));
    const shown = [...this.records].reverse().filter((r) => needle === '' || matches(r, needle) || (r.envelope !== undefined && flows.has(r.envelope.correlationId)));
    return html`
      ${overridesPanel(this)}
      <input type="search" placeholder="Filter by type, source or data (an order id)" aria-label="Filter events" .value=${this.filter}
        @input=${(e: Event) => (this.filter = (e.target as HTMLInputElement).value)} />
      <div class="columns" aria-hidden="true"><span>time</span><span>type · source · origin</span><span class="count">handlers</span></div>
      <ol aria-label="Events, newest first">
        ${shown.map((r) => {
          const current = r.envelope !== undefined && r.envelope.id === this.picked?.id;
          return html`<li part="record" data-type=${r.type} data-outcome=${r.outcome}>
            <button @click=${() => (this.picked = r.envelope)} aria-current=${current ? 'true' : 'false'} title=${r.error ?? r.handlers.map((h) => h.subscriber).join(', ')}>
              <span class="outcome-${r.outcome}">${r.outcome === 'delivered' ? time(r) : r.outcome}</span>
              <span>${r.type} <span class="source">${r.source} · ${r.origin}</span></span>
              <span class="count">${r.handlers.length}<span class="vh"> ${r.handlers.length === 1 ? 'handler' : 'handlers'}</span></span>
            </button>
          </li>`;
        })}
      </ol>
      ${this.picked === undefined ? nothing : this.#chain(this.picked)}
    `;
  }

  #chain(picked: Envelope): TemplateResult {
    const flow = this.records.flatMap((r) => (r.outcome === 'delivered' && r.envelope?.correlationId === picked.correlationId ? [r.envelope] : []));
    // Each node is a disclosure: its summary is the event, opening it shows the data and envelope fields.
    const node = (n: CausalNode): TemplateResult => html`<li data-id=${n.event.id} data-type=${n.event.type}>
      <details>
        <summary>${n.event.type} <span class="source">${n.event.source}</span></summary>
        <pre>${JSON.stringify({id: n.event.id, time: n.event.time, causationId: n.event.causationId, data: n.event.data}, null, 2)}</pre>
      </details>
      ${n.children.length === 0 ? nothing : html`<ul>${n.children.map(node)}</ul>`}
    </li>`;
    return html`<section class="chain" part="chain" aria-label="Causal chain">
      <div>flow ${picked.correlationId} · ${flow.length} events</div>
      <ul>${causalTree(flow).map(node)}</ul>
    </section>`;
  }
}

/** Whether a record's type, source, ids or data mention `needle` (lower case). */
function matches(r: TraceRecord, needle: string): boolean {
  if (r.type.toLowerCase().includes(needle) || r.source.toLowerCase().includes(needle)) return true;
  const e = r.envelope;
  return e !== undefined && (e.id.includes(needle) || e.correlationId.includes(needle) || JSON.stringify(e.data).toLowerCase().includes(needle));
}

function time(r: TraceRecord): string {
  return r.envelope?.time.slice(11, 19) ?? '';
}

declare global {
  interface HTMLElementTagNameMap {
    'sb-event-log': EventLog;
  }
}
