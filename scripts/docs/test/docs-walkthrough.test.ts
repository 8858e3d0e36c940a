/**
 * The walkthrough "Write an app and a contract" (docs/getting-started/write-an-app.md) as a
 * newcomer meets it: its JSON blocks parse, its contract carries a version and a description, and
 * the Custom Elements Manifest analyzer (what `npm run build` runs) lists its element with its tag,
 * which it does only for an exported class. (The snippets' compilation is docs-snippets.test.ts's.)
 */
import {spawnSync} from 'node:child_process';
import {mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterAll, describe, expect, it} from 'vitest';
import {codeBlocks, readPage, repoRoot} from '../markdown';

const blocks = codeBlocks(readPage('docs/getting-started/write-an-app.md'));
const scratch = mkdtempSync(join(tmpdir(), 'docs-walkthrough-test-'));
afterAll(() => rmSync(scratch, {recursive: true, force: true}));

describe('the walkthrough', () => {
  it('gives JSON that parses: the app package and its manifest entry', () => {
    const json = blocks.filter((b) => b.lang === 'json').map((b) => JSON.parse(b.code) as Record<string, unknown>);
    expect(json.map((j) => j['name'])).toEqual(['@switchboard/app-shipments', 'shipments']);
    expect(json[1]).toMatchObject({tag: 'shop-shipments', module: '/apps/shipments.js'});
  });

  it('defines its contract with a version and a description', () => {
    const contract = blocks.find((b) => b.lang === 'ts' && b.code.includes("type: 'order.shipments-counted'"))!;
    expect(contract.code).toMatch(/version: 1,/);
    expect(contract.code).toMatch(/description: '[^']+'/);
  });

  it("puts its element in the build's custom-elements.json", {timeout: 60_000}, () => {
    const app = blocks.find((b) => b.lang === 'ts' && b.code.includes("tag = 'shop-shipments'"))!;
    mkdirSync(join(scratch, 'src'), {recursive: true});
    writeFileSync(join(scratch, 'src', 'index.ts'), app.code);
    const cem = join(repoRoot, 'node_modules', '@custom-elements-manifest', 'analyzer', 'cem.js');
    const run = spawnSync(process.execPath, [cem, 'analyze', '--globs', 'src/index.ts', '--outdir', 'out', '--quiet'], {cwd: scratch, encoding: 'utf8'});
    expect(run.status, run.stderr).toBe(0);
    const manifest = JSON.parse(readFileSync(join(scratch, 'out', 'custom-elements.json'), 'utf8')) as {
      modules: Array<{declarations?: Array<{name: string; tagName?: string; summary?: string}>; exports?: Array<{name: string}>}>;
    };
    const [module] = manifest.modules;
    expect(module?.declarations?.find((d) => d.name === 'Shipments')).toMatchObject({tagName: 'shop-shipments', summary: 'Counts shipped orders.'});
    expect(module?.exports?.map((e) => e.name)).toContain('Shipments');
  });
});
