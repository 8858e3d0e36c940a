import {execFile} from 'node:child_process';
import {afterEach, describe, expect, it} from 'vitest';
import {startVictim, type Victim} from './victim.js';

let victim: Victim | undefined;
afterEach(async () => {
  await victim?.stop();
  victim = undefined;
});

const BATCH = 'application/cloudevents-batch+json';
/** ~60 KB of `{}`: about 20,000 invalid CloudEvents under the 64 KB body limit. */
const emptyObjects = `[${Array(20_000).fill('{}').join(',')}]`;

function postBatch(url: string, body: string): Promise<Response> {
  return fetch(`${url}/api/topics/t1/events`, {method: 'POST', headers: {'content-type': BATCH}, body});
}

function cloudEvent(i: number): Record<string, unknown> {
  return {specversion: '1.0', id: `ce-${i}`, source: 'test', type: 'cart.noted', data: {note: 'x'.repeat(200)}};
}

describe('hostile: CloudEvents batch error amplification', () => {
  it('a client the policy refuses gets a short 403 before any validation', async () => {
    victim = await startVictim({jwtSecret: 'a-test-secret-of-at-least-32-bytes!!', defaultTopic: {publishers: 'granted'}});
    const res = await postBatch(victim.url, emptyObjects);
    expect(res.status).toBe(403);
    expect((await res.text()).length).toBeLessThan(1000);
  });

  it('an invalid batch is answered with at most 200 issues and the count of those omitted', async () => {
    victim = await startVictim();
    const res = await postBatch(victim.url, emptyObjects);
    expect(res.status).toBe(400);
    const text = await res.text();
    const body = JSON.parse(text) as {error: string; issues: unknown[]; omittedIssues: number};
    expect(body.issues).toHaveLength(200);
    // Each `{}` misses specversion, id, source and type.
    expect(body.omittedIssues).toBe(20_000 * 4 - 200);
    expect(body.error).toMatch(/79800 more were omitted/);
    expect(text.length).toBeLessThan(64 * 1024);
  });

  it('clients that never read their answers are dropped; the process lives, memory stays bounded, others are served', {timeout: 60_000}, async () => {
    victim = await startVictim({writeTimeoutMs: 300});
    const url = victim.url;
    // 1,000 retained events of ~450 bytes: one read of them is ~450 KB, more than the socket buffers take.
    for (let b = 0; b < 10; b++) {
      const res = await postBatch(url, JSON.stringify(Array.from({length: 100}, (_, i) => cloudEvent(b * 100 + i))));
      expect(res.status).toBe(202);
    }
    const before = victim.rss();
    // Readers with a 4 KB receive window that never read, each pipelining 30 reads (~11 MB of
    // answers, more than the kernel's buffers hold): the rest would sit in the server's memory.
    const outcomes = await nonReaders(new URL(url).port, 2, 'GET /api/topics/t1/events?limit=1000 HTTP/1.1\r\nHost: localhost\r\n\r\n'.repeat(20));
    // Each was cut: the server ended it before writing every answer asked for.
    for (const outcome of outcomes) {
      const [state, answers] = outcome.split(' ');
      expect(state).toBe('eof');
      expect(Number(answers)).toBeLessThan(20);
    }
    expect(victim.alive).toBe(true);
    expect(await victim.healthy()).toBe(true);
    expect((await fetch(`${url}/api/topics/t1/events?limit=1`)).status).toBe(200);
    expect(victim.rss() - before).toBeLessThan(150 * 1024 * 1024);
  });
});

/**
 * Opens `count` sockets with a 4 KB receive buffer (Python: Node cannot set SO_RCVBUF), sends
 * `request` on each, reads nothing for 2 s, then reads until the server ends the socket (or 4 s
 * pass). Resolves with one line per socket: `eof <answers received>` or `open <answers>`.
 */
function nonReaders(port: string, count: number, request: string): Promise<string[]> {
  const script = `
import socket, sys, time
socks = []
for _ in range(${count}):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect(("127.0.0.1", ${Number(port)}))
    s.sendall(sys.argv[1].encode())
    socks.append(s)
time.sleep(2)
for s in socks:
    s.settimeout(4)
    got = b""
    state = "open"
    try:
        while True:
            chunk = s.recv(1 << 16)
            if not chunk:
                state = "eof"
                break
            got += chunk
    except socket.timeout:
        pass
    except OSError:
        state = "eof"
    print(state, got.count(b"HTTP/1.1 200"))
`;
  return new Promise((resolve, reject) =>
    execFile('python3', ['-c', script, request], {timeout: 60_000}, (error, stdout) => (error ? reject(error) : resolve(stdout.trim().split('\n')))),
  );
}
