/**
 * History API navigation: same-origin link clicks become `pushState` instead of page loads, and
 * back/forward (`popstate`) re-render. Links are found on the event's composed path, so a link in
 * an app's shadow root navigates the shell too.
 */

/** Whether a click on `anchor` is the shell's to handle (not a new tab, a download, another origin, or opted out). */
export function isShellLink(event: MouseEvent, anchor: HTMLAnchorElement, base: URL): boolean {
  if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return false;
  if (anchor.hasAttribute('download') || anchor.hasAttribute('data-native')) return false;
  const target = anchor.getAttribute('target');
  if (target !== null && target !== '' && target !== '_self') return false;
  const href = anchor.getAttribute('href');
  if (href === null || href.startsWith('#')) return false;
  const url = new URL(anchor.href, base);
  if (url.origin !== base.origin) return false;
  // Files the server serves (an app's standalone page, a JSON document) are not routes.
  return !/\.[a-z0-9]+$/i.test(url.pathname);
}

/** The nearest `<a href>` on an event's composed path. */
export function anchorOf(event: Event): HTMLAnchorElement | undefined {
  for (const node of event.composedPath()) {
    if ((node as Element).localName === 'a' && (node as HTMLAnchorElement).hasAttribute?.('href')) return node as HTMLAnchorElement;
  }
  return undefined;
}

/** Listens for link clicks and back/forward on `view`; `go` renders a path. Returns a function that stops. */
export function interceptNavigation(view: Window, go: (url: URL, how: 'push' | 'pop') => void): () => void {
  const onClick = (event: MouseEvent): void => {
    const anchor = anchorOf(event);
    if (anchor === undefined || !isShellLink(event, anchor, new URL(view.location.href))) return;
    event.preventDefault();
    go(new URL(anchor.href, view.location.href), 'push');
  };
  const onPop = (): void => go(new URL(view.location.href), 'pop');
  view.document.addEventListener('click', onClick);
  view.addEventListener('popstate', onPop);
  return () => {
    view.document.removeEventListener('click', onClick);
    view.removeEventListener('popstate', onPop);
  };
}
