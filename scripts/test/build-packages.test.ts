import {existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterEach, describe, expect, it} from 'vitest';
import {buildPackages} from '../build-packages.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, {recursive: true, force: true});
});

/** A repository with two public packages, `b` importing `a`, and a private one; returns its packages folder. */
function repository(): string {
  const root = mkdtempSync(join(tmpdir(), 'sb-build-packages-'));
  dirs.push(root);
  writeFileSync(join(root, 'tsconfig.base.json'), JSON.stringify({compilerOptions: {target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, types: [], skipLibCheck: true}}));
  writeFileSync(join(root, 'package-lock.json'), '{}');
  const pkg = (dir: string, manifest: Record<string, unknown>, source: string) => {
    const path = join(root, 'packages', dir);
    mkdirSync(join(path, 'src'), {recursive: true});
    writeFileSync(join(path, 'package.json'), JSON.stringify({version: '1.0.0', type: 'module', ...manifest}));
    writeFileSync(join(path, 'tsconfig.json'), JSON.stringify({extends: '../../tsconfig.base.json', include: ['src']}));
    writeFileSync(join(path, 'tsconfig.build.json'), JSON.stringify({extends: './tsconfig.json', compilerOptions: {rootDir: 'src', outDir: 'dist', declaration: true}}));
    writeFileSync(join(path, 'src', 'index.ts'), source);
  };
  pkg('a', {name: '@t/a'}, 'export const a = 1;\n');
  pkg('b', {name: '@t/b', dependencies: {'@t/a': '1.0.0'}}, 'export const b = 2;\n');
  pkg('private', {name: '@t/private', private: true}, 'export const p = 3;\n');
  return join(root, 'packages');
}

/** Rewrites a file, as an edit after the last build would (its modification time is now). */
function edit(path: string, text: string): void {
  writeFileSync(path, text);
}

// Each build runs tsc once per package: seconds on a busy machine.
describe('buildPackages', {timeout: 120_000}, () => {
  it('compiles the public packages in dependency order, then only what changed since, and what imports it', () => {
    const packages = repository();
    expect(buildPackages({packagesDir: packages})).toEqual(['a', 'b']);
    expect(existsSync(join(packages, 'a/dist/index.js'))).toBe(true);
    expect(existsSync(join(packages, 'b/dist/index.d.ts'))).toBe(true);
    expect(existsSync(join(packages, 'private/dist'))).toBe(false);

    // Nothing changed: nothing compiled, dist/ left as it was.
    expect(buildPackages({packagesDir: packages})).toEqual([]);

    // An edit in b: b alone. An edit in a: a, and b, which type-checks against a's declarations.
    edit(join(packages, 'b/src/index.ts'), 'export const b = 20;\n');
    expect(buildPackages({packagesDir: packages})).toEqual(['b']);
    edit(join(packages, 'a/src/index.ts'), 'export const a = 10;\n');
    expect(buildPackages({packagesDir: packages})).toEqual(['a', 'b']);

    // A removed source file changes its folder; a missing dist/ is never taken as built; force builds all.
    rmSync(join(packages, 'b/src/index.ts'));
    writeFileSync(join(packages, 'b/src/main.ts'), 'export const b = 2;\n');
    expect(buildPackages({packagesDir: packages})).toEqual(['b']);
    expect(existsSync(join(packages, 'b/dist/index.js'))).toBe(false);
    rmSync(join(packages, 'a/dist'), {recursive: true});
    expect(buildPackages({packagesDir: packages})).toEqual(['a', 'b']);
    expect(buildPackages({packagesDir: packages, force: true})).toEqual(['a', 'b']);
  });

  it('a change to the shared tsconfig or the lockfile rebuilds every package', () => {
    const packages = repository();
    buildPackages({packagesDir: packages});
    edit(join(packages, '../package-lock.json'), '{"lockfileVersion": 3}');
    expect(buildPackages({packagesDir: packages})).toEqual(['a', 'b']);
    edit(join(packages, '../tsconfig.base.json'), JSON.stringify({compilerOptions: {target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, types: []}}));
    expect(buildPackages({packagesDir: packages})).toEqual(['a', 'b']);
  });

  it('stops at a package that fails to compile, and builds it again next time', () => {
    const packages = repository();
    writeFileSync(join(packages, 'a/src/index.ts'), 'export const a: number = "one";\n');
    expect(() => buildPackages({packagesDir: packages})).toThrow(/tsc failed for packages\/a/);
    edit(join(packages, 'a/src/index.ts'), 'export const a = 1;\n');
    expect(buildPackages({packagesDir: packages})).toEqual(['a', 'b']);
  });
});
