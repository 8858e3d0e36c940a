/**
 * A request URL fit for logs: the `access_token` query parameter (how browsers send a token on
 * WebSockets and SSE) is replaced, so tokens never reach log files.
 */
export function redactUrl(url: string | undefined): string | undefined {
  if (url === undefined || !/access_token=/i.test(url)) return url;
  return url.replace(/([?&]access_token=)[^&#]*/gi, '$1[redacted]');
}
