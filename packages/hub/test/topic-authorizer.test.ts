import {describe, expect, it} from 'vitest';
import {clientAppender, globMatcher, grantsOf, hasScope, SERVER, TopicAuthorizer, type Principal} from '../src/index.js';

const alice: Principal = {userId: 'alice', claims: {sub: 'alice', scope: 'subscribe:orders:user-* publish:feeds admin', topics: ['news.*']}};
const hub = (principal: Principal | undefined) => clientAppender('hub', principal);

describe('TopicAuthorizer', () => {
  const authorizer = new TopicAuthorizer({
    serverOwned: ['payment.*'],
    topics: {
      'orders:user-{sub}': {subscribe: 'authenticated', publish: ['cart.*']},
      'orders:*': {subscribe: 'granted'},
      orders: {publish: [], serverOwned: ['order.*']},
      feeds: {publishers: 'granted'},
      secret: {subscribe: 'nobody'},
    },
    defaultTopic: {publishers: 'authenticated'},
  });

  it('lets server code append anything, server-owned types included', () => {
    expect(authorizer.canPublish('orders', 'payment.failed', SERVER)).toEqual({allowed: true});
    expect(authorizer.canPublish('orders', 'order.shipped', SERVER)).toEqual({allowed: true});
  });

  it('refuses server-owned types to every client, granted or not, naming the rule', () => {
    expect(authorizer.canPublish('feeds', 'payment.failed', hub(alice))).toEqual({allowed: false, reason: '"payment.failed" is server-owned (rule "payment.*"): only the server appends it'});
    expect(authorizer.canPublish('orders', 'order.shipped', hub(alice))).toMatchObject({allowed: false, reason: expect.stringContaining('rule "order.*"')});
  });

  it('limits a user-limited topic to its owner, the first matching pattern winning', () => {
    expect(authorizer.canSubscribe('orders:user-alice', alice)).toEqual({allowed: true});
    expect(authorizer.canSubscribe('orders:user-bob', alice)).toEqual({allowed: false, reason: 'topic "orders:user-bob" belongs to user "bob"'});
    expect(authorizer.canSubscribe('orders:user-alice', undefined)).toMatchObject({allowed: false});
    expect(authorizer.canPublish('orders:user-alice', 'cart.noted', hub(alice))).toEqual({allowed: true});
    expect(authorizer.canPublish('orders:user-alice', 'order.placed', hub(alice))).toMatchObject({allowed: false});
    // Not user-limited, so the next pattern applies: a grant is needed.
    expect(authorizer.canSubscribe('orders:archive', alice)).toMatchObject({allowed: false, reason: expect.stringContaining('needs a token granting "subscribe:orders:archive"')});
  });

  it('applies audiences: anyone, authenticated, granted, nobody', () => {
    expect(authorizer.canSubscribe('orders', undefined)).toEqual({allowed: true});
    expect(authorizer.canSubscribe('secret', alice)).toMatchObject({allowed: false});
    expect(authorizer.canPublish('feeds', 'order.placed', hub(alice))).toEqual({allowed: true});
    expect(authorizer.canPublish('feeds', 'order.placed', hub({userId: 'bob'}))).toMatchObject({allowed: false});
    expect(authorizer.canPublish('misc', 'order.placed', hub(undefined))).toMatchObject({allowed: false, reason: expect.stringContaining('only authenticated clients')});
    expect(authorizer.canPublish('misc', 'order.placed', hub({userId: 'bob'}))).toEqual({allowed: true});
  });
});

describe('grants and globs', () => {
  it('reads topics and scope claims', () => {
    expect(grantsOf(alice)).toEqual({subscribe: ['news.*', 'orders:user-*'], publish: ['news.*', 'feeds']});
    expect(grantsOf(undefined)).toEqual({subscribe: [], publish: []});
    expect(grantsOf({userId: 'x', claims: {topics: 'a b', scope: ['publish:c', 'bogus', 'publish:']}})).toEqual({subscribe: ['a', 'b'], publish: ['a', 'b', 'c']});
    expect(hasScope(alice, 'admin')).toBe(true);
    expect(hasScope({userId: 'x', claims: {scope: 'administrator'}}, 'admin')).toBe(false);
  });

  it('matches dotted names with *, everything else literally', () => {
    expect(globMatcher('order.*')('order.placed')).toBe(true);
    expect(globMatcher('order.*')('orderXplaced')).toBe(false);
    expect(globMatcher('order.*')('payment.failed')).toBe(false);
    expect(globMatcher('*')('anything')).toBe(true);
    expect(globMatcher('a+b')('aab')).toBe(false);
  });
});
