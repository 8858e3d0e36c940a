import {request} from 'node:http';
import {SignJWT} from 'jose';
import {afterEach, describe, expect, it} from 'vitest';
import {jwtAuthenticator, MemoryTopicLog, type SwitchboardServer} from '../src/index.js';
import {orderPlaced, postEvent, startServer} from './helpers.js';

let server: SwitchboardServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const SECRET = 'topic-budget-secret-of-at-least-32-bytes';
const token = (sub: string, claims: Record<string, unknown> = {}) =>
  new SignJWT(claims).setProtectedHeader({alg: 'HS256'}).setSubject(sub).setExpirationTime('10m').sign(new TextEncoder().encode(SECRET));

/** POSTs one event to `topic` from `localAddress` (another loopback address acts as another machine). */
function postFrom(url: string, topic: string, localAddress: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const body = JSON.stringify(orderPlaced());
    const req = request(`${url.replace('localhost', '127.0.0.1')}/api/topics/${topic}/events`, {method: 'POST', localAddress, headers: {'content-type': 'application/json'}}, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('topic budgets', () => {
  it('an anonymous address may create topicsPerClient topics; past it 429, while another address and existing topics still work', async () => {
    let url: string;
    ({server, url} = await startServer({topicsPerClient: 5}));
    for (let i = 0; i < 5; i++) expect(await postFrom(url, `t${i}`, '127.0.0.1')).toBe(202);
    const refused = await postEvent(url, 'one-more', orderPlaced());
    expect(refused.status).toBe(429);
    expect(((await refused.json()) as {error: string}).error).toMatch(/at most 5 topics \(option topicsPerClient/);
    // An existing topic still takes events; another client still creates topics.
    expect(await postFrom(url, 't0', '127.0.0.1')).toBe(202);
    expect(await postFrom(url, 'theirs', '127.0.0.2')).toBe(202);
  });

  it('a token may carry its own quota (topicQuota); principals are budgeted by user, not address', async () => {
    let url: string;
    ({server, url} = await startServer({topicsPerClient: 1, endpoint: {authenticate: jwtAuthenticator({secret: SECRET, allowAnonymous: true})}}));
    const producer = {authorization: `Bearer ${await token('producer', {topicQuota: 3})}`, 'content-type': 'application/json'};
    const post = (topic: string, headers: Record<string, string>) => fetch(`${url}/api/topics/${topic}/events`, {method: 'POST', headers, body: JSON.stringify(orderPlaced())});
    for (const topic of ['p1', 'p2', 'p3']) expect((await post(topic, producer)).status).toBe(202);
    expect((await post('p4', producer)).status).toBe(429);
    // Anonymous from the same address has a budget of its own.
    expect((await postEvent(url, 'a1', orderPlaced())).status).toBe(202);
    expect((await postEvent(url, 'a2', orderPlaced())).status).toBe(429);
  });

  it("clients filling the topic table never starve the server's own appends", async () => {
    const log = new MemoryTopicLog({maxTopics: 10});
    let url: string;
    ({server, url} = await startServer({log, topicsPerClient: 1000}));
    for (let i = 0; i < 10; i++) expect((await postEvent(url, `c${i}`, orderPlaced())).status).toBe(202);
    expect((await postEvent(url, 'c-more', orderPlaced())).status).toBe(429);
    for (const topic of ['orders', 'inventory', 'notifications']) {
      const result = await server.events.append(topic, orderPlaced());
      expect(result.ok, topic).toBe(true);
    }
    // Server topics do not count against the clients' cap either.
    expect((await postEvent(url, 'c-more', orderPlaced())).status).toBe(429);
    expect(log.topicCount).toBe(13);
  });

  it('retention has a finite default age: events older than an hour go, and the topic then idles out', () => {
    let now = 0;
    const log = new MemoryTopicLog({now: () => now, idleTopicMs: 60_000});
    log.append('t', orderPlaced() as never);
    now = 59 * 60_000;
    expect(log.read('t', null, 10).entries).toHaveLength(1);
    now = 61 * 60_000;
    expect(log.read('t', null, 10).entries).toHaveLength(0);
    now += 60_000;
    expect(log.forgetIdle()).toEqual(['t']);
  });
});
