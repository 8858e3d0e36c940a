import {readFileSync} from 'node:fs';
import {dirname, resolve} from 'node:path';
import {fileURLToPath} from 'node:url';
import semver from 'semver';
import {describe, expect, it} from 'vitest';
import {publicPackages} from '../build-packages';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const read = (path: string) => JSON.parse(readFileSync(resolve(root, path), 'utf8')) as {engines?: {node?: string}; packages?: Record<string, {engines?: {node?: string} | string[]}>};

describe('package metadata tells the truth', () => {
  const claimed = read('package.json').engines?.node;
  const lowest = semver.minVersion(claimed ?? '')?.version;

  it('the repository states a Node range', () => {
    expect(lowest).toBeDefined();
  });

  it('every installed dependency runs on the lowest Node the repository claims (no EBADENGINE on npm install)', () => {
    const lock = read('package-lock.json');
    const refusing = Object.entries(lock.packages ?? {}).flatMap(([path, entry]) => {
      const node = Array.isArray(entry.engines) ? undefined : entry.engines?.node;
      return node === undefined || semver.satisfies(lowest!, node) ? [] : [`${path} needs node ${node}`];
    });
    expect(refusing).toEqual([]);
  });

  it('no public package points at a repository other than the project\'s own (none today, so none at all)', () => {
    const own = (read('package.json') as {repository?: unknown}).repository;
    for (const pkg of publicPackages()) expect({[pkg.name]: (read(`packages/${pkg.dir}/package.json`) as {repository?: unknown}).repository}).toEqual({[pkg.name]: own});
  });

  it('every public package claims the same range as the repository', () => {
    for (const pkg of publicPackages()) expect({[pkg.name]: read(`packages/${pkg.dir}/package.json`).engines?.node}).toEqual({[pkg.name]: claimed});
  });
});
