/**
 * The shell commands a docs page tells users to type, read from its ```sh blocks, so tests run
 * the very words users copy.
 */

/** One command from a page: its words (comment removed) and the line as written. */
export interface DocsCommand {
  readonly argv: readonly string[];
  readonly line: string;
}

/**
 * Every line of the page's `sh` code blocks that starts with `prefix` (e.g. `npm install`), split
 * into words with a trailing `# comment` removed. Refuses quoting, substitutions and operators
 * (the lines tested must be runnable as plain words, as they are on the page).
 */
export function docsCommands(markdown: string, prefix: string): DocsCommand[] {
  const commands: DocsCommand[] = [];
  let inShell = false;
  for (const raw of markdown.split('\n')) {
    const fence = /^\s*```(\S*)/.exec(raw);
    if (fence !== null) {
      inShell = !inShell && ['sh', 'bash', 'shell', 'console'].includes(fence[1]!);
      continue;
    }
    if (!inShell) continue;
    const line = raw.replace(/\s+#.*$/, '').trim();
    if (!line.startsWith(`${prefix} `) && line !== prefix) continue;
    if (/["'`$|;&<>\\()]/.test(line)) throw new Error(`a docs command must be plain words to be tested as written: ${raw.trim()}`);
    commands.push({argv: line.split(/\s+/), line: raw.trim()});
  }
  return commands;
}
