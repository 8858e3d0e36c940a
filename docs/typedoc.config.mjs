// @ts-check
/**
 * TypeDoc over the kit's public libraries: every packages/<name> with a src/index.ts whose
 * package.json is not private (so a package added later is documented without touching this
 * file), from that entry point and its JSDoc, as Markdown pages in docs/api/ for the site (`npm run docs:api`).
 */
import {existsSync, readdirSync, readFileSync} from 'node:fs';

const packages = readdirSync('../packages').filter((name) => {
  if (!existsSync(`../packages/${name}/src/index.ts`)) return false;
  try {
    return JSON.parse(readFileSync(`../packages/${name}/package.json`, 'utf8')).private !== true;
  } catch {
    return false;
  }
});

/** @type {Partial<import('typedoc').TypeDocOptions & import('typedoc-plugin-markdown').PluginOptions>} */
const options = {
  "entryPointStrategy": "packages",
  "packageOptions": {
    "entryPoints": [
      "src/index.ts"
    ],
    "tsconfig": "tsconfig.json",
    "excludeExternals": true,
    "excludePrivate": true,
    "excludeInternal": true
  },
  "plugin": [
    "typedoc-plugin-markdown"
  ],
  "out": "api",
  "name": "API reference",
  "readme": "none",
  "entryFileName": "index",
  "hidePageHeader": true,
  "hideBreadcrumbs": true,
  "useCodeBlocks": true,
  "parametersFormat": "table",
  "sanitizeComments": true,
  "validation": {
    "notExported": false,
    "invalidLink": true,
    "notDocumented": false
  },
  "blockTags": [
    "@param",
    "@returns",
    "@example",
    "@see",
    "@throws",
    "@deprecated",
    "@defaultValue",
    "@default",
    "@remarks",
    "@typeParam",
    "@module",
    "@packageDocumentation",
    "@summary",
    "@tagname",
    "@csspart",
    "@cssproperty",
    "@slot",
    "@event",
    "@fires",
    "@attr",
    "@attribute",
    "@property",
    "@prop"
  ]
};

export default {...options, entryPoints: packages.map((name) => `../packages/${name}`)};
