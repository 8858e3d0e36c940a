import {spawn} from 'node:child_process';
import {readFileSync} from 'node:fs';
import * as signalR from '@microsoft/signalr';
import {expect} from 'vitest';
import {testServerArgs} from '../../../../scripts/test-servers.js';

/** A server process under attack (see victim-server.ts). */
export interface Victim {
  readonly url: string;
  /** Whether the process is still running. */
  readonly alive: boolean;
  /** What the process wrote to stderr (a crash's stack). */
  readonly stderr: string;
  /** Resident set and used heap after a full GC, in bytes. */
  memory(): Promise<{rss: number; heapUsed: number}>;
  /** Its resident set size now, in bytes (from /proc, no request: works while it is flooded). */
  rss(): number;
  /** Whether it still answers `/healthz` with 200 within 5 s. */
  healthy(): Promise<boolean>;
  /** Ends the process (by its pid) and waits for it. */
  stop(): Promise<void>;
}

/** Starts victim-server.ts in its own Node process with `options` (JSON). */
export async function startVictim(options: Record<string, unknown> = {}): Promise<Victim> {
  const child = spawn(process.execPath, ['--expose-gc', ...testServerArgs('victim-server'), JSON.stringify(options)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  let alive = true;
  child.stderr!.on('data', (chunk: Buffer) => void (stderr += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => {
    alive = false;
    resolve();
  }));
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('\n')) resolve(out.split('\n')[0]!.trim());
    });
    child.once('exit', (code) => reject(new Error(`victim server exited with ${code}: ${stderr}`)));
  });
  return {
    url,
    get alive() {
      return alive;
    },
    get stderr() {
      return stderr;
    },
    memory: async () => (await (await fetch(`${url}/test/memory`)).json()) as {rss: number; heapUsed: number},
    rss: () => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))![1]) * 1024,
    healthy: async () => {
      try {
        return (await fetch(`${url}/healthz`, {signal: AbortSignal.timeout(5_000)})).status === 200;
      } catch {
        return false;
      }
    },
    stop: async () => {
      if (alive) child.kill('SIGTERM');
      await exited;
    },
  };
}

/**
 * An official @microsoft/signalr client that joined `topic` before an attack: `pushed()` asserts
 * that it still receives what is published there (over HTTP ingest) after the attack.
 */
export async function bystander(url: string, topic = 'orders', transport = signalR.HttpTransportType.WebSockets): Promise<{pushed: () => Promise<void>; stop: () => Promise<void>}> {
  const connection = new signalR.HubConnectionBuilder().withUrl(`${url}/hubs/events`, {transport}).configureLogging(signalR.LogLevel.None).build();
  const received: string[] = [];
  connection.on('event', (e: {event: {id: string}}) => void received.push(e.event.id));
  await connection.start();
  await connection.invoke('subscribe', topic, null);
  let n = 0;
  return {
    pushed: async () => {
      const id = `after-attack-${n++}`;
      const response = await fetch(`${url}/api/topics/${topic}/events`, {
        method: 'POST',
        headers: {'content-type': 'application/json'},
        body: JSON.stringify({id, type: 'order.placed', version: 1, time: new Date().toISOString(), source: 'test', correlationId: 'c', data: {orderId: 'o-1', sku: 'tea', quantity: 1}}),
      });
      expect(response.status).toBe(202);
      await expect.poll(() => received, {timeout: 10_000}).toContain(id);
      expect(connection.state).toBe(signalR.HubConnectionState.Connected);
    },
    stop: () => connection.stop(),
  };
}
