/**
 * Which URLs a developer's local override may point an app (or a shared package) at. An override
 * runs arbitrary code in the page, so the rule is narrow: this machine (a dev server on loopback,
 * http or https), the page's own origin, or, when saved by the developer (the devtools panel,
 * localStorage), an https URL elsewhere. A link (`?sb-override=`) may only point at this machine
 * or the page's origin: a link someone sends cannot make the page load code from their server.
 * The overrides bootstrap the registry inlines into pages applies the same rule (its own ES2017
 * copy, tested against this one).
 */

/** Longest override URL accepted (the composition's own limit for module URLs). */
export const MAX_OVERRIDE_URL_LENGTH = 2048;

/** Where an override came from: saved by the developer, or a `?sb-override=` query parameter. */
export type OverrideSource = 'saved' | 'query';

/** The outcome of {@link checkOverrideUrl}: the absolute URL to load, or why it is refused. */
export type OverrideUrlCheck = {readonly ok: true; readonly url: string} | {readonly ok: false; readonly reason: string};

/** Whether `hostname` (as `URL` gives it) is this machine: `localhost`, `*.localhost`, 127.0.0.0/8 or `[::1]`. */
export function isLoopbackHost(hostname: string): boolean {
  return hostname === 'localhost' || hostname.endsWith('.localhost') || hostname === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname);
}

/**
 * Checks an override URL against the page's URL (`pageUrl`, e.g. `location.href`).
 *
 * ```ts
 * checkOverrideUrl('http://localhost:5174/src/index.ts', 'https://shop.example/'); // {ok: true, url: '…'}
 * checkOverrideUrl('javascript:alert(1)', 'https://shop.example/'); // {ok: false, reason: 'only http(s) URLs …'}
 * ```
 */
export function checkOverrideUrl(url: string, pageUrl: string, source: OverrideSource = 'saved'): OverrideUrlCheck {
  if (typeof url !== 'string' || url.trim() === '') return {ok: false, reason: 'no URL'};
  if (url.length > MAX_OVERRIDE_URL_LENGTH) return {ok: false, reason: `longer than ${MAX_OVERRIDE_URL_LENGTH} characters`};
  let parsed: URL;
  let page: URL;
  try {
    page = new URL(pageUrl);
    parsed = new URL(url.trim(), page);
  } catch {
    return {ok: false, reason: 'not a URL'};
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return {ok: false, reason: `only http(s) URLs may be loaded, not ${parsed.protocol}`};
  if (parsed.username !== '' || parsed.password !== '') return {ok: false, reason: 'a URL with credentials is refused'};
  if (parsed.origin === page.origin || isLoopbackHost(parsed.hostname)) return {ok: true, url: parsed.href};
  if (source === 'query') return {ok: false, reason: `a link may only point at this machine (localhost) or ${page.origin}; save an https URL elsewhere from the devtools panel`};
  if (parsed.protocol !== 'https:') return {ok: false, reason: 'plain http is refused except on this machine (localhost): use https'};
  return {ok: true, url: parsed.href};
}
