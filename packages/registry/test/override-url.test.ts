import {checkOverrideUrl, type OverrideSource, type OverrideUrlCheck} from '@switchboard/contracts';
import {OVERRIDE_URL_RULE} from '@switchboard/registry';
import {describe, expect, it} from 'vitest';

/** The inline bootstrap's copy of the rule, as the page runs it. */
const inlineRule = new Function(`return (${OVERRIDE_URL_RULE});`)() as (url: string, page: string, source: OverrideSource) => OverrideUrlCheck;

const PAGE = 'https://shop.example/ops?x=1';

/** [url, source, accepted URL or a piece of the refusal]. */
const CASES: ReadonlyArray<readonly [string, OverrideSource, {url: string} | {refused: string}]> = [
  ['http://localhost:5174/src/index.ts', 'query', {url: 'http://localhost:5174/src/index.ts'}],
  ['http://127.0.0.1:5174/src/index.ts', 'saved', {url: 'http://127.0.0.1:5174/src/index.ts'}],
  ['http://127.9.8.7/x.js', 'query', {url: 'http://127.9.8.7/x.js'}],
  ['http://[::1]:5174/x.js', 'query', {url: 'http://[::1]:5174/x.js'}],
  ['https://app.localhost/x.js', 'query', {url: 'https://app.localhost/x.js'}],
  ['/deploys/order-tracker/2.0.0-abc/order-tracker.js', 'query', {url: 'https://shop.example/deploys/order-tracker/2.0.0-abc/order-tracker.js'}],
  ['https://cdn.example/tracker.js', 'saved', {url: 'https://cdn.example/tracker.js'}],
  ['https://cdn.example/tracker.js', 'query', {refused: 'a link may only point at this machine'}],
  ['//evil.example/x.js', 'query', {refused: 'a link may only point at this machine'}],
  ['http://cdn.example/tracker.js', 'saved', {refused: 'plain http is refused'}],
  ['http://localhost.evil.example/x.js', 'saved', {refused: 'plain http is refused'}],
  ['http://127.0.0.1.evil.example/x.js', 'saved', {refused: 'plain http is refused'}],
  ['javascript:alert(1)', 'saved', {refused: 'only http(s) URLs may be loaded, not javascript:'}],
  [' JavaScript:alert(1)', 'query', {refused: 'not javascript:'}],
  ['data:text/javascript,alert(1)', 'saved', {refused: 'not data:'}],
  ['blob:https://shop.example/0d1c', 'saved', {refused: 'not blob:'}],
  ['file:///etc/passwd', 'saved', {refused: 'not file:'}],
  ['ftp://localhost/x.js', 'saved', {refused: 'not ftp:'}],
  ['http://user:pw@localhost:5174/x.js', 'saved', {refused: 'credentials'}],
  ['http://[bad', 'saved', {refused: 'not a URL'}],
  ['', 'saved', {refused: 'no URL'}],
  [`http://localhost/${'a'.repeat(2048)}`, 'saved', {refused: 'longer than 2048 characters'}],
];

describe('the override URL rule', () => {
  for (const [url, source, expected] of CASES) {
    it(`${source} ${url.slice(0, 60)} → ${'url' in expected ? 'accepted' : 'refused'}`, () => {
      for (const rule of [checkOverrideUrl, inlineRule]) {
        const verdict = rule(url, PAGE, source);
        if ('url' in expected) expect(verdict).toEqual({ok: true, url: expected.url});
        else {
          expect(verdict.ok).toBe(false);
          expect((verdict as {reason: string}).reason).toContain(expected.refused);
        }
      }
    });
  }

  it('the inline copy and the contracts function agree word for word', () => {
    for (const [url, source] of CASES) expect(inlineRule(url, PAGE, source)).toEqual(checkOverrideUrl(url, PAGE, source));
  });
});
