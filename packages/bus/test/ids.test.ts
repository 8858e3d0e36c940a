import {describe, expect, it} from 'vitest';
import {Bus} from '@switchboard/bus';
import {createEnvelope, defineEvent} from '@switchboard/contracts';
import {z} from 'zod';
import {IdMaker} from '../src/lib/ids.js';
import {SeenIds} from '../src/lib/seen-ids.js';
import {turnIso, turnMs} from '../src/lib/turn-clock.js';

const Ping = defineEvent({type: 'test.ping', schema: z.object({n: z.number()})});

describe('IdMaker', () => {
  it('mints distinct ids under one random prefix, different for every maker', () => {
    const a = new IdMaker(10);
    const b = new IdMaker(10);
    const ids = Array.from({length: 100}, (_, i) => a.mint(i));
    expect(new Set(ids).size).toBe(100);
    expect(ids[0]!.split('.')[0]).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(b.mint(0).split('.')[0]).not.toBe(ids[0]!.split('.')[0]);
  });

  it('recalls the value of its last `window` ids only, and never a foreign or malformed id', () => {
    const maker = new IdMaker(3);
    const ids = [maker.mint(5), maker.mint(6), maker.mint(7), maker.mint(8)];
    expect(maker.recall(ids[0]!)).toBeUndefined();
    expect(ids.slice(1).map((id) => maker.recall(id))).toEqual([6, 7, 8]);
    const prefix = ids[0]!.slice(0, ids[0]!.lastIndexOf('.') + 1);
    for (const id of [`${prefix}4`, `${prefix}03`, `${prefix}-1`, `${prefix}x`, `${prefix}`, '3', new IdMaker(3).mint(1)]) {
      expect(maker.recall(id), id).toBeUndefined();
    }
  });
});

describe('SeenIds', () => {
  it('keeps the last `capacity` ids with their values, forgetting the oldest first', () => {
    const seen = new SeenIds(2);
    seen.add('a', 1);
    seen.add('b', 2);
    seen.add('c', 3);
    expect([seen.has('a'), seen.get('b'), seen.get('c'), seen.size]).toEqual([false, 2, 3, 2]);
  });

  it('forgets everything on clear(), then fills and evicts as if new', () => {
    const seen = new SeenIds(2);
    seen.add('a');
    seen.add('b');
    seen.clear();
    expect([seen.has('a'), seen.has('b'), seen.size]).toEqual([false, false, 0]);
    seen.add('c');
    seen.add('d');
    seen.add('e');
    expect([seen.has('c'), seen.has('d'), seen.has('e'), seen.size]).toEqual([false, true, true, 2]);
  });
});

describe('turn clock', () => {
  it('gives every read in one turn the same time, and reads the clock again in the next turn', async () => {
    const first = turnMs();
    const iso = turnIso();
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(turnMs()).toBe(turnMs());
    expect(turnMs()).toBeGreaterThan(first);
    expect(iso).toBe(new Date(first).toISOString());
    expect(turnIso()).not.toBe(iso);
  });
});

describe('bus ids and dedupe', () => {
  it('drops its own event coming back from the hub, up to `dedupeWindow` events later, and not beyond', () => {
    const bus = new Bus({dedupeWindow: 2, onReject: () => {}});
    const got: string[] = [];
    bus.subscribe(Ping, (e) => void got.push(e.id));
    const first = bus.publish(Ping, {n: 1});
    const second = bus.publish(Ping, {n: 2});
    bus.ingest(second, 'hub:t');
    expect(got).toEqual([first.id, second.id]);
    bus.publish(Ping, {n: 3});
    bus.ingest(first, 'hub:t');
    expect(got).toHaveLength(4);
    expect(got[3]).toBe(first.id);
  });

  it('still dedupes envelopes that carry their own ids, and a cause minted here gives depth to its effect', () => {
    const bus = new Bus({maxCausationDepth: 2, onReject: () => {}});
    const got: string[] = [];
    bus.subscribe(Ping, (e) => void got.push(e.id));
    bus.publish(Ping, {n: 1}, {id: 'mine-1'});
    bus.publish(Ping, {n: 1}, {id: 'mine-1'});
    expect(got).toEqual(['mine-1']);
    const root = bus.publish(Ping, {n: 2});
    const child = createEnvelope(Ping, {n: 3}, {source: 'service:x', parent: root});
    expect(bus.ingest(child, 'hub:t').ok).toBe(true);
    const grandchild = createEnvelope(Ping, {n: 4}, {source: 'service:x', parent: child});
    expect(bus.ingest(grandchild, 'hub:t').ok).toBe(false);
  });
});
