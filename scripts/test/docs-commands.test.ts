import {describe, expect, it} from 'vitest';
import {docsCommands} from '../docs-commands';

const page = [
  'Install:',
  '',
  '```sh',
  'npm install @switchboard/contracts zod   # a page',
  'npm install -D @switchboard/testing',
  'npm test',
  '```',
  '',
  'npm install not-in-a-block',
  '```ts',
  "// npm install @switchboard/bus (in a TS block: not a command)",
  '```',
].join('\n');

describe('docsCommands', () => {
  it('reads the lines of sh blocks that start with the prefix, as words, without comments', () => {
    expect(docsCommands(page, 'npm install').map((c) => c.argv)).toEqual([
      ['npm', 'install', '@switchboard/contracts', 'zod'],
      ['npm', 'install', '-D', '@switchboard/testing'],
    ]);
  });

  it('refuses a line that is not plain words rather than run it differently from the page', () => {
    expect(() => docsCommands('```sh\nnpm install "$(echo x)"\n```', 'npm install')).toThrow('plain words');
  });

  it('finds nothing in a page without such lines', () => {
    expect(docsCommands('# Title\n\ntext', 'npm install')).toEqual([]);
  });
});
