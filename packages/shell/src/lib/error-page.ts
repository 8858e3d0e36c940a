/** Options of {@link retryUntilLoaded}. */
export interface ErrorPageOptions {
  /** Where the error page is shown (the shell's root). */
  readonly root: HTMLElement;
  /** First wait before retrying; doubled after each failure; default 1,000 ms. */
  readonly delayMs?: number;
  /** Longest wait; default 30,000 ms. */
  readonly maxDelayMs?: number;
}

/**
 * Runs `load` until it succeeds. While it fails, `root` shows a clear error page instead of a blank
 * one: what failed, when the next try is (with backoff), and a button to try now. The page is
 * removed once `load` succeeds.
 */
export async function retryUntilLoaded<T>(load: () => Promise<T>, options: ErrorPageOptions): Promise<T> {
  const {root} = options;
  const doc = root.ownerDocument;
  let delay = options.delayMs ?? 1000;
  const max = options.maxDelayMs ?? 30_000;
  let page: HTMLElement | undefined;
  for (let attempt = 1; ; attempt++) {
    try {
      const value = await load();
      page?.remove();
      root.removeAttribute('data-shell-error');
      return value;
    } catch (error) {
      const wait = delay;
      delay = Math.min(max, delay * 2);
      page ??= doc.createElement('div');
      page.className = 'sb-shell-error';
      page.setAttribute('role', 'alert');
      const heading = doc.createElement('h2');
      heading.textContent = 'This page could not load its apps';
      const what = doc.createElement('p');
      what.className = 'sb-shell-error-reason';
      what.textContent = (error as Error)?.message ?? String(error);
      const when = doc.createElement('p');
      when.className = 'sb-shell-error-retry';
      when.textContent = `Try ${attempt} failed; trying again in ${Math.ceil(wait / 1000)} s.`;
      const now = doc.createElement('button');
      now.type = 'button';
      now.textContent = 'Try now';
      page.replaceChildren(heading, what, when, now);
      root.dataset['shellError'] = String(attempt);
      if (!page.isConnected) root.prepend(page);
      console.warn(`switchboard shell: ${what.textContent} (try ${attempt}; next in ${wait} ms)`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, wait);
        now.addEventListener('click', () => (clearTimeout(timer), resolve()), {once: true});
      });
    }
  }
}
