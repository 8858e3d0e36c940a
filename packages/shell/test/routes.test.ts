import {describe, expect, it} from 'vitest';
import {activeSlots, checkLayout, matchRoute, type Layout} from '@switchboard/shell';

const layout: Layout = {
  always: [{name: 'top', apps: ['header']}],
  routes: [
    {path: '/', slots: [{name: 'main', apps: ['shop']}]},
    {path: '/ops', title: 'Ops', slots: [{name: 'main', apps: ['metrics']}]},
    {
      path: '/orders',
      slots: [{name: 'main', apps: ['list']}],
      routes: [{path: ':id', title: 'Order', slots: [{name: 'side', apps: ['detail']}], routes: [{path: 'items/*', slots: [{name: 'extra', apps: ['items']}]}]}],
    },
  ],
  notFound: {title: 'Not found', slots: [{name: 'main', apps: ['help']}]},
};

describe('matchRoute', () => {
  it('matches the whole path, first route in layout order', () => {
    expect(matchRoute(layout, '/').chain.map((r) => r.path)).toEqual(['/']);
    expect(matchRoute(layout, '/ops').chain.map((r) => r.path)).toEqual(['/ops']);
    expect(matchRoute(layout, '/ops/').chain.map((r) => r.path)).toEqual(['/ops']);
  });

  it('matches nested routes relative to their parent and captures parameters', () => {
    const m = matchRoute(layout, '/orders/o%2D7');
    expect(m.chain.map((r) => r.path)).toEqual(['/orders', ':id']);
    expect(m.params).toEqual({id: 'o-7'});
    expect(activeSlots(layout, m).map((s) => s.name)).toEqual(['top', 'main', 'side']);
    const deep = matchRoute(layout, '/orders/o-7/items/a/b');
    expect(deep.params).toEqual({id: 'o-7', '*': 'a/b'});
    expect(activeSlots(layout, deep).map((s) => s.name)).toEqual(['top', 'main', 'side', 'extra']);
  });

  it('a parent matches alone only on its own path', () => {
    expect(matchRoute(layout, '/orders').chain.map((r) => r.path)).toEqual(['/orders']);
  });

  it('an unknown path is the default route', () => {
    for (const path of ['/nowhere', '/ops/more', '/orders/o-1/nothing']) {
      const m = matchRoute(layout, path);
      expect(m.notFound).toBe(true);
      expect(activeSlots(layout, m).map((s) => s.apps[0])).toEqual(['header', 'help']);
    }
  });
});

describe('checkLayout', () => {
  it('names apps the composition lacks and slots without names', () => {
    const problems = checkLayout(
      {routes: [{path: '/', slots: [{name: '', apps: ['ghost']}]}], notFound: {slots: [{name: 'x', apps: ['shop']}]}},
      new Set(['shop']),
    );
    expect(problems).toEqual(['route /: a slot needs a name', 'route /, slot "": no app "ghost" in the composition']);
    expect(checkLayout(layout, new Set(['header', 'shop', 'metrics', 'list', 'detail', 'items', 'help']))).toEqual([]);
  });
});
