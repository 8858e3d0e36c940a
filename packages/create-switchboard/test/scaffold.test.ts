import {existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {dirname, join, resolve} from 'node:path';
import {PassThrough} from 'node:stream';
import {fileURLToPath} from 'node:url';
import semver from 'semver';
import {afterEach, describe, expect, it} from 'vitest';
import {checkName, main, namesFor, scaffold, TEMPLATES} from '../src/index.js';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const dirs: string[] = [];
const temp = () => {
  const dir = mkdtempSync(join(tmpdir(), 'create-switchboard-'));
  dirs.push(dir);
  return dir;
};
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, {recursive: true, force: true});
});

function io(isTTY = false) {
  const output = new PassThrough();
  const error = new PassThrough();
  const text = (stream: PassThrough) => () => (stream.read() as Buffer | null)?.toString() ?? '';
  return {io: {input: Object.assign(new PassThrough(), {isTTY}), output, error}, out: text(output), err: text(error)};
}

describe('names', () => {
  it('derives the element tag and class from the project name; a name without a hyphen gets -app', () => {
    expect(namesFor('order-feed')).toEqual({name: 'order-feed', tag: 'order-feed', className: 'OrderFeed'});
    expect(namesFor('feed')).toEqual({name: 'feed', tag: 'feed-app', className: 'FeedApp'});
  });

  it('refuses names that are no package name or no element name, saying how to write one', () => {
    for (const bad of ['', 'Order', '1feed', 'a--b', 'a_b', 'feed-', '../x', 'x'.repeat(65)]) expect(checkName(bad), bad).toBeDefined();
    expect(() => namesFor('My App')).toThrow('use lowercase letters, digits and single hyphens');
  });
});

describe('scaffold', () => {
  it('writes a micro frontend with every placeholder replaced, .gitignore restored, and the kit at this version', () => {
    const directory = join(temp(), 'order-feed');
    const {files} = scaffold({template: 'lit', name: 'order-feed', directory});
    expect(files).toEqual(
      expect.arrayContaining(['.gitignore', 'README.md', 'deploy.mjs', 'index.html', 'package.json', 'playwright.config.ts', 'src/contract.ts', 'src/order-feed.ts', 'tests/order-feed.spec.ts', 'tsconfig.json', 'vite.config.ts']),
    );
    for (const file of files) expect(readFileSync(join(directory, file), 'utf8'), file).not.toMatch(/__(NAME|TAG|CLASS|KIT_VERSION)__/);
    const pkg = JSON.parse(readFileSync(join(directory, 'package.json'), 'utf8')) as {name: string; dependencies: Record<string, string>};
    const own = (JSON.parse(readFileSync(join(repo, 'packages/create-switchboard/package.json'), 'utf8')) as {version: string}).version;
    expect(pkg.name).toBe('order-feed');
    expect(pkg.dependencies['@switchboard/lit']).toBe(`^${own}`);
    expect(readFileSync(join(directory, 'src/order-feed.ts'), 'utf8')).toContain("customElements.define('order-feed', OrderFeed)");
  });

  it('writes the shell without the micro frontend files', () => {
    const directory = join(temp(), 'site');
    const {files} = scaffold({template: 'shell', name: 'site', directory});
    expect(files).toContain('src/server.ts');
    expect(files).not.toContain('deploy.mjs');
  });

  it('refuses a folder that already holds files and writes nothing into it', () => {
    const directory = join(temp(), 'taken');
    mkdirSync(directory);
    writeFileSync(join(directory, 'mine.txt'), 'keep');
    expect(() => scaffold({template: 'vanilla', name: 'taken', directory})).toThrow('already exists and is not empty');
    expect(readdirSync(directory)).toEqual(['mine.txt']);
  });

  it('asks for third-party versions the repository itself builds and tests with', () => {
    const installed = (name: string) => (JSON.parse(readFileSync(join(repo, 'node_modules', name, 'package.json'), 'utf8')) as {version: string}).version;
    for (const template of Object.keys(TEMPLATES)) {
      const pkg = JSON.parse(readFileSync(join(repo, 'packages/create-switchboard/templates', template, 'package.json'), 'utf8')) as Record<string, Record<string, string>>;
      for (const [name, range] of Object.entries({...pkg['dependencies'], ...pkg['devDependencies']})) {
        if (name.startsWith('@switchboard/') || !existsSync(join(repo, 'node_modules', name, 'package.json'))) continue;
        expect(semver.satisfies(installed(name), range), `${template}: ${name}@${range} vs ${installed(name)}`).toBe(true);
      }
    }
  });
});

describe('the command', () => {
  it('scaffolds from flags alone and prints the next commands', async () => {
    const parent = temp();
    const {io: streams, out} = io();
    const code = await main([join(parent, 'hello-board'), '--template', 'vanilla'], streams);
    expect(code).toBe(0);
    expect(existsSync(join(parent, 'hello-board/src/hello-board.ts'))).toBe(true);
    expect(out()).toContain('npm install\n  npm test');
  });

  it('without a terminal to ask, a missing template is a usage error (exit 2) that lists the templates', async () => {
    const {io: streams, err} = io(false);
    expect(await main([join(temp(), 'x-y')], streams)).toBe(2);
    const text = err();
    expect(text).toContain('--template is missing');
    for (const name of Object.keys(TEMPLATES)) expect(text).toContain(`  ${name} `);
  });

  it('refuses an unknown template and a bad name with exit 2', async () => {
    expect(await main(['--name', 'good-name', '--template', 'angular'], io().io)).toBe(2);
    expect(await main(['--name', 'Bad Name', '--template', 'lit'], io().io)).toBe(2);
  });

  it('asks in a terminal for what the flags left out', async () => {
    const parent = temp();
    const {io: streams} = io(true);
    const done = main([join(parent, 'asked-app')], streams);
    streams.input.write('shell\n');
    expect(await done).toBe(0);
    expect(existsSync(join(parent, 'asked-app/src/shell.ts'))).toBe(true);
  });
});
