import {afterEach, describe, expect, it} from 'vitest';
import type {SwitchboardServer} from '../src/index.js';
import {orderPlaced, postEvent, startServer} from './helpers.js';

let server: SwitchboardServer | undefined;

afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('metric label cardinality', () => {
  it('5,000 rejected posts to distinct topic names fold into one _other series; /metrics stays small', async () => {
    let url: string;
    ({server, url} = await startServer());
    expect((await postEvent(url, 'orders', orderPlaced())).status).toBe(202);
    const baseline = (await (await fetch(`${url}/metrics`)).text()).length;
    // 200 over HTTP, the rest straight into the event service (the same path past the HTTP parsing).
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < 200) {
        const response = await postEvent(url, `bogus-${next++}`, {not: 'an envelope'});
        expect(response.status).toBe(400);
        await response.body?.cancel();
      }
    };
    await Promise.all(Array.from({length: 8}, worker));
    for (let i = 200; i < 5000; i++) expect((await server.events.publish(`bogus-${i}`, {not: 'an envelope'})).ok).toBe(false);
    const text = await (await fetch(`${url}/metrics`)).text();
    expect(text).not.toContain('bogus-');
    expect(text).toMatch(/^switchboard_events_rejected_total\{topic="_other"\} 5000$/m);
    // A topic the log holds keeps its own series.
    expect(text).toMatch(/^switchboard_events_in_total\{topic="orders",type="order.placed"\} 1$/m);
    // Process metrics move a little between scrapes; 5,000 topic series would add ~400 KB.
    expect(text.length - baseline).toBeLessThan(10_000);
  });

  it('topics past maxTopicLabels, and types past maxTypeLabels, share _other', async () => {
    let url: string;
    ({server, url} = await startServer({metrics: {maxTopicLabels: 2, maxTypeLabels: 1}, topics: {a: {unknownTypes: 'accept'}, b: {unknownTypes: 'accept'}, c: {unknownTypes: 'accept'}}}));
    for (const topic of ['a', 'b', 'c']) expect((await postEvent(url, topic, orderPlaced({type: `kind.${topic}`}))).status).toBe(202);
    const text = await (await fetch(`${url}/metrics`)).text();
    expect(text).toMatch(/^switchboard_events_in_total\{topic="a",type="kind.a"\} 1$/m);
    expect(text).toMatch(/^switchboard_events_in_total\{topic="b",type="_other"\} 1$/m);
    expect(text).toMatch(/^switchboard_events_in_total\{topic="_other",type="_other"\} 1$/m);
    expect(text).toMatch(/^switchboard_log_retained_events\{topic="_other"\} 1$/m);
  });
});
