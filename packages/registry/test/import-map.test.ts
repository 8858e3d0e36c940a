import {describe, expect, it} from 'vitest';
import {resolveShared} from '@switchboard/registry';

const builds = {
  lit: {'2.8.0': '/s/lit@2.8.0.js', '3.1.0': '/s/lit@3.1.0.js', '3.3.3': '/s/lit@3.3.3.js'},
  zod: {'4.6.7': '/s/zod@4.6.7.js'},
};

describe('resolving shared packages into one import map', () => {
  it('picks the one version every compatible range accepts, the highest among equals', () => {
    const {importMap, chosen, unresolved} = resolveShared(
      [
        {name: 'a', module: '/a.js', requires: {lit: '^3.1.0', zod: '^4.0.0'}},
        {name: 'b', module: '/b.js', requires: {lit: '^3.3.0'}},
      ],
      builds,
    );
    expect(chosen).toEqual({lit: '3.3.3', zod: '4.6.7'});
    expect(importMap).toEqual({imports: {lit: '/s/lit@3.3.3.js', zod: '/s/zod@4.6.7.js'}, scopes: {}});
    expect(unresolved).toEqual([]);
  });

  it('scopes an app that needs another major to a version of its own', () => {
    const {importMap} = resolveShared(
      [
        {name: 'new', module: '/new.js', requires: {lit: '^3.0.0'}},
        {name: 'newer', module: '/newer.js', requires: {lit: '^3.2.0'}},
        {name: 'legacy', module: '/legacy.js', requires: {lit: '^2.0.0'}},
      ],
      builds,
    );
    expect(importMap.imports).toEqual({lit: '/s/lit@3.3.3.js'});
    expect(importMap.scopes).toEqual({'/legacy.js': {lit: '/s/lit@2.8.0.js'}});
  });

  it('prefers the version most apps accept over the highest one', () => {
    const {chosen, importMap} = resolveShared(
      [
        {name: 'x', module: '/x.js', requires: {lit: '~3.1.0'}},
        {name: 'y', module: '/y.js', requires: {lit: '>=3.0.0 <3.2.0'}},
        {name: 'z', module: '/z.js', requires: {lit: '^3.3.0'}},
      ],
      builds,
    );
    expect(chosen['lit']).toBe('3.1.0');
    expect(importMap.scopes).toEqual({'/z.js': {lit: '/s/lit@3.3.3.js'}});
  });

  it('names an app whose range no build satisfies, rather than mapping it to a wrong version', () => {
    const {importMap, unresolved} = resolveShared([{name: 'future', module: '/f.js', requires: {zod: '^5.0.0', lit: '^3.0.0'}}], builds);
    expect(unresolved).toEqual([{name: 'future', reason: 'no build of zod satisfies ^5.0.0'}]);
    expect(importMap.imports['zod']).toBeUndefined();
  });
});
