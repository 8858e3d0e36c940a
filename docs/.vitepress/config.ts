import {existsSync} from 'node:fs';
import {fileURLToPath} from 'node:url';
import {defineConfig, type DefaultTheme} from 'vitepress';

const docs = fileURLToPath(new URL('..', import.meta.url));

/** A sidebar item for a page other changes add: listed once its file exists, so the site never links a page that is not there. */
function ifPresent(text: string, link: string): DefaultTheme.SidebarItem[] {
  return existsSync(`${docs}${link.replace(/^\//, '')}.md`) ? [{text, link}] : [];
}

/** The steps of a path, numbered in the order they are read. */
function numbered(items: DefaultTheme.SidebarItem[]): DefaultTheme.SidebarItem[] {
  return items.map((item, i) => ({...item, text: `${i + 1}. ${item.text}`}));
}

/** The API reference TypeDoc writes (`npm run docs:api`); absent until then, so listed only when generated. */
function apiSidebar(): DefaultTheme.SidebarItem[] {
  return existsSync(`${docs}api/index.md`) ? [{text: 'API reference', link: '/api/'}] : [];
}

/** The documentation site: `npm run docs` builds it into docs/.vitepress/dist, `npm run docs:dev` serves it. */
export default defineConfig({
  title: 'Switchboard',
  description: 'Event-driven micro frontends: Lit custom elements, a typed page bus, and a SignalR hub in TypeScript.',
  cleanUrls: true,
  // The running demo (npm start) is on localhost; every other internal link must resolve or the build fails.
  ignoreDeadLinks: 'localhostLinks',
  lastUpdated: false,
  srcExclude: ['**/node_modules/**', 'package.json'],
  // The local search index of the API reference is one large chunk, loaded only when searching.
  vite: {build: {chunkSizeWarningLimit: 2000}},
  themeConfig: {
    nav: [
      {text: 'Getting started', link: '/getting-started/run'},
      {text: 'Guides', link: '/guide/page-bus'},
      {text: 'API', link: '/api/'},
      {text: 'Benchmarks', link: '/benchmarks'},
    ],
    search: {provider: 'local'},
    outline: {level: [2, 3]},
    sidebar: [
      {
        text: 'Getting started',
        items: numbered([
          {text: 'See it run', link: '/getting-started/run'},
          {text: 'Embed one element', link: '/guide/embed'},
          {text: 'Write an app and a contract', link: '/getting-started/write-an-app'},
          {text: 'Connect to a hub', link: '/getting-started/install'},
          {text: 'Test it', link: '/guide/testing'},
          ...ifPresent('Deploy it', '/guide/deploy'),
          {text: 'Scale out', link: '/guide/scale-out'},
        ]),
      },
      {
        text: 'Guides',
        items: [
          ...ifPresent('Start a project (npm create)', '/guide/scaffold'),
          {text: 'The page bus', link: '/guide/page-bus'},
          {text: 'Contracts', link: '/guide/contracts'},
          {text: 'Connect a page to the hub', link: '/guide/connect'},
          {text: 'Read models in the page', link: '/guide/read-models'},
          {text: 'The hub as a library', link: '/guide/hub'},
          ...ifPresent('The shell runtime', '/guide/shell'),
          ...ifPresent('React and Vue', '/guide/frameworks'),
          ...ifPresent('RabbitMQ', '/guide/rabbitmq'),
          ...ifPresent('One node per core', '/guide/scale-out-per-core'),
          {text: 'Shared dependencies', link: '/guide/federation'},
          {text: 'Layout', link: '/guide/layout'},
          {text: 'Security', link: '/guide/security'},
          {text: 'Limits', link: '/guide/limits'},
        ],
      },
      {
        text: 'Reference',
        items: [
          ...apiSidebar(),
          {text: "The demo server's settings", link: '/reference/configuration'},
          {text: "The hub's wire contract", link: '/reference/wire-contract'},
          {text: 'Live demo', link: '/demo'},
          {text: 'Benchmarks', link: '/benchmarks'},
          {text: "The project's tests", link: '/reference/tests'},
          ...ifPresent('Versions and releases', '/guide/release'),
          {text: 'Dependencies and why', link: '/dependencies'},
        ],
      },
    ],
  },
});
