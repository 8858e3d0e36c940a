import {spawn, type ChildProcess} from 'node:child_process';
import {randomUUID} from 'node:crypto';
import {expect, test as base} from '@switchboard/testing';

/** The project's own server (src/server.ts) on a free port, once per worker. */
const test = base.extend<{}, {server: {url: string}}>({
  server: [
    async ({}, use) => {
      const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {env: {...process.env, PORT: '0', LOG_LEVEL: 'warn'}, stdio: ['ignore', 'pipe', 'inherit']});
      const url = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout!.on('data', (chunk: Buffer) => {
          out += chunk.toString();
          const match = /listening (\S+)/.exec(out);
          if (match) resolve(match[1]!);
        });
        child.once('exit', (code) => reject(new Error(`src/server.ts exited with ${code}: ${out}`)));
      });
      await use({url});
      child.kill('SIGTERM');
    },
    {scope: 'worker'},
  ],
});

test('the shell connects to its hub and shows what is published over HTTP', async ({page, bus, server}) => {
  await page.goto(server.url);
  await expect(page.locator('#connection')).toHaveText('connected');
  await bus.waitForTopic('greetings');
  // A whole envelope: every field but causationId is required.
  const envelope = {id: randomUUID(), type: 'greeting.sent', version: 1, time: new Date().toISOString(), source: 'service:test', correlationId: randomUUID(), data: {text: 'hello over HTTP'}};
  const response = await fetch(`${server.url}/api/topics/greetings/events`, {method: 'POST', headers: {'content-type': 'application/json'}, body: JSON.stringify(envelope)});
  expect(response.status).toBe(202);
  await expect(page.locator('#latest')).toHaveText('hello over HTTP');
});

test('an app that fails to load says so in its slot, and the others still mount', async ({page, server}) => {
  await page.route('**/apps.json', (route) =>
    route.fulfill({json: [{name: 'broken', tag: 'broken-app', module: '/apps/missing.js'}, {name: 'hello', tag: 'hello-app', module: '/apps/hello.js'}]}),
  );
  await page.route('**/apps/hello.js', (route) =>
    route.fulfill({contentType: 'text/javascript', body: "customElements.define('hello-app', class extends HTMLElement { connectedCallback() { this.textContent = 'hello app mounted'; } });"}),
  );
  await page.goto(server.url);
  await expect(page.getByText('hello app mounted')).toBeVisible();
  await expect(page.locator('[data-app="broken"]')).toContainText('broken could not be loaded');
  await expect(page.locator('#connection')).toHaveText('connected');
});
