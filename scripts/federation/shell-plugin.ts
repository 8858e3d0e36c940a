/**
 * The shell's side of sharing at build time: once the shell's own bundle is known, report its entry
 * module and which shared packages it imports. The import map itself is no longer baked into the
 * page: the server's deploy registry writes it into each page when the page is requested.
 */
import type {Plugin} from 'vite';
import {SHARED} from './build-shared';

/** What the shell's entry chunk is and which shared packages it imports by bare name. */
export interface ShellEntry {
  readonly module: string;
  readonly imports: readonly string[];
}

/** A Vite build plugin for the shell page; `found` receives its entry. */
export function shellEntry(found: (entry: ShellEntry) => void): Plugin {
  return {
    name: 'switchboard:shell-entry',
    apply: 'build',
    generateBundle(_options, bundle) {
      const entry = Object.values(bundle).find((c) => c.type === 'chunk' && c.isEntry);
      if (entry?.type !== 'chunk') return;
      found({module: `/${entry.fileName}`, imports: entry.imports.filter((i) => (SHARED as readonly string[]).includes(i))});
    },
  };
}
