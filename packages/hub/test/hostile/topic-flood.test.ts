import {request} from 'node:http';
import {afterEach, describe, expect, it} from 'vitest';
import {orderPlaced} from '../helpers.js';
import {startVictim, type Victim} from './victim.js';

let victim: Victim | undefined;
afterEach(async () => {
  await victim?.stop();
  victim = undefined;
});

function postFrom(url: string, topic: string, localAddress: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(`${url.replace('localhost', '127.0.0.1')}/api/topics/${topic}/events`, {method: 'POST', localAddress, headers: {'content-type': 'application/json'}}, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(JSON.stringify(orderPlaced()));
  });
}

describe('hostile: one producer creates topics as fast as it can', () => {
  it('is stopped at its budget; another client still creates topics; the process lives, memory stays bounded', {timeout: 60_000}, async () => {
    victim = await startVictim({topicsPerClient: 50});
    const url = victim.url;
    const before = victim.rss();
    const statuses: number[] = [];
    for (let batch = 0; batch < 10; batch++) {
      statuses.push(...(await Promise.all(Array.from({length: 50}, (_, i) => postFrom(url, `flood-${batch}-${i}`, '127.0.0.2')))));
    }
    expect(statuses.filter((s) => s === 202)).toHaveLength(50);
    expect(statuses.filter((s) => s === 429)).toHaveLength(450);
    expect(await postFrom(url, 'someone-else', '127.0.0.1')).toBe(202);
    expect(victim.alive).toBe(true);
    expect(await victim.healthy()).toBe(true);
    expect(victim.rss() - before).toBeLessThan(100 * 1024 * 1024);
  });
});
