import {request} from 'node:http';
import {afterEach, describe, expect, it} from 'vitest';
import {client} from '../helpers.js';
import {startVictim, type Victim} from './victim.js';

let victim: Victim | undefined;
afterEach(async () => {
  await victim?.stop();
  victim = undefined;
});

/** One negotiate from another loopback address (127.0.0.2), as a second machine would: its status. */
function negotiateFrom(url: string, localAddress: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(`${url.replace('localhost', '127.0.0.1')}/hubs/events/negotiate?negotiateVersion=1`, {method: 'POST', localAddress}, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('hostile: one address floods negotiate', () => {
  it('the official client from another address still connects every time; the process lives, memory stays bounded', {timeout: 60_000}, async () => {
    victim = await startVictim({endpoint: {pendingConnections: {max: 200, perClient: 20}}});
    const url = victim.url;
    const before = victim.rss();
    let flooding = true;
    let sent = 0;
    const flood = (async () => {
      while (flooding) {
        await Promise.all(Array.from({length: 25}, () => negotiateFrom(url, '127.0.0.2')));
        sent += 25;
      }
    })();
    // Let the flood fill far past both the client's share and the overall cap.
    while (sent < 500) await new Promise((r) => setTimeout(r, 10));
    const outcomes: string[] = [];
    for (let i = 0; i < 10; i++) {
      const connection = client(url);
      try {
        await connection.start();
        outcomes.push('connected');
      } catch (error) {
        outcomes.push(String(error));
      } finally {
        await connection.stop();
      }
    }
    flooding = false;
    await flood;
    expect(outcomes).toEqual(Array(10).fill('connected'));
    expect(victim.alive).toBe(true);
    expect(await victim.healthy()).toBe(true);
    expect(victim.rss() - before).toBeLessThan(100 * 1024 * 1024);
  });
});
