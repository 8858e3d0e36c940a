/**
 * The shell's side of sharing: at build time, once the shell's own bundle is known, resolve what the
 * shell and every app need into one import map and put it (with modulepreload hints for what the
 * shell imports) at the top of the shell page, before any module runs.
 */
import type {Plugin} from 'vite';
import {resolveShared, type Resolution, type SharedBuilds, type SharedRequirement} from './import-map';
import {SHARED, shellRequirement} from './build-shared';

/** A Vite build plugin for the shell page; `resolved` receives the resolution (for the manifest and the report). */
export function sharedImportMap(apps: readonly SharedRequirement[], builds: SharedBuilds, resolved: (resolution: Resolution) => void): Plugin {
  return {
    name: 'switchboard:shared-import-map',
    apply: 'build',
    transformIndexHtml: {
      order: 'post',
      handler(_html, context) {
        const entry = Object.values(context.bundle ?? {}).find((c) => c.type === 'chunk' && c.isEntry);
        const imports = entry?.type === 'chunk' ? entry.imports.filter((i) => (SHARED as readonly string[]).includes(i)) : [];
        const shell = {...shellRequirement(imports), module: entry === undefined ? '/assets/' : `/${entry.fileName}`};
        const resolution = resolveShared([shell, ...apps], builds);
        resolved(resolution);
        const preload = imports.map((i) => resolution.importMap.imports[i]).filter((url): url is string => url !== undefined);
        return [
          {tag: 'script', attrs: {type: 'importmap'}, children: JSON.stringify(resolution.importMap, null, 1), injectTo: 'head-prepend'},
          ...preload.map((href) => ({tag: 'link', attrs: {rel: 'modulepreload', href}, injectTo: 'head' as const})),
        ];
      },
    },
  };
}
