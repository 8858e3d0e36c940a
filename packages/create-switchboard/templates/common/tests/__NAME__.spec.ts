import {mkdtempSync, readdirSync, rmSync} from 'node:fs';
import {execFileSync} from 'node:child_process';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {expect, test, TestHub} from '@switchboard/testing';
import {contracts, Greeted} from '../src/contract';

// Each test gets an in-process hub serving the built page (npm test builds first).
test.use({hubOptions: {contracts, staticDir: 'dist'}});

test('shows what the hub publishes on "greetings"', async ({page, bus, hub}) => {
  await page.goto(`${hub.url}/index.html`);
  await bus.waitForTopic('greetings');
  await hub.publish('greetings', Greeted, {text: 'hello from the hub'});
  await expect(page.locator('__TAG__').getByText('hello from the hub')).toBeVisible();
});

test('says hello on the page bus, within its contract', async ({page, bus, hub}) => {
  await page.goto(`${hub.url}/index.html`);
  await page.locator('__TAG__').getByRole('button', {name: 'Say hello'}).click();
  const sent = await bus.waitForEvent(Greeted);
  expect(sent.data.text).toBe('hello from __TAG__');
  await expect(page.locator('__TAG__').getByText('hello from __TAG__')).toBeVisible();
});

test('the deploy script publishes a page that works where it lands', async ({page, bus}) => {
  const target = mkdtempSync(join(tmpdir(), '__NAME__-deploy-'));
  try {
    execFileSync(process.execPath, ['deploy.mjs', '--to', target], {stdio: 'pipe'});
    const [version] = readdirSync(join(target, '__NAME__'));
    const hub = await TestHub.start({contracts, staticDir: join(target, '__NAME__', version!)});
    try {
      await page.goto(`${hub.url}/index.html`);
      await bus.waitForTopic('greetings');
      await hub.publish('greetings', Greeted, {text: 'deployed'});
      await expect(page.getByText('deployed')).toBeVisible();
    } finally {
      await hub.close();
    }
  } finally {
    rmSync(target, {recursive: true, force: true});
  }
});
