import {basename, relative, resolve} from 'node:path';
import {createInterface} from 'node:readline/promises';
import {parseArgs} from 'node:util';
import {checkName} from './lib/names.js';
import {scaffold} from './lib/scaffold.js';
import {isTemplate, TEMPLATES, type TemplateName} from './lib/templates.js';

const usage = `Usage: npm create switchboard@latest [directory] -- [--template ${Object.keys(TEMPLATES).join('|')}] [--name <name>]

Templates:
${Object.entries(TEMPLATES)
  .map(([name, what]) => `  ${name.padEnd(8)} ${what}`)
  .join('\n')}

Without --template or a name, it asks (when run in a terminal).`;

/** Where the CLI reads answers and writes text; the process's own streams by default. */
export interface CliIo {
  readonly input: NodeJS.ReadableStream & {isTTY?: boolean};
  readonly output: NodeJS.WritableStream;
  readonly error: NodeJS.WritableStream;
}

/**
 * `npm create switchboard`: parses the arguments, asks for what is missing when attached to a
 * terminal, scaffolds, and prints the next commands. Returns the exit code (2 for bad usage).
 */
export async function main(argv: readonly string[], io: CliIo = {input: process.stdin, output: process.stdout, error: process.stderr}): Promise<number> {
  const say = (text: string) => io.output.write(`${text}\n`);
  const fail = (text: string, code = 2) => {
    io.error.write(`create-switchboard: ${text}\n`);
    return code;
  };
  let parsed;
  try {
    parsed = parseArgs({args: [...argv], allowPositionals: true, options: {template: {type: 'string', short: 't'}, name: {type: 'string', short: 'n'}, help: {type: 'boolean', short: 'h'}}});
  } catch (error) {
    return fail(`${(error as Error).message}\n\n${usage}`);
  }
  const {values, positionals} = parsed;
  if (values.help === true) {
    say(usage);
    return 0;
  }
  if (positionals.length > 1) return fail(`one directory at most, got ${positionals.join(' ')}\n\n${usage}`);
  let template = values.template;
  let name = values.name ?? (positionals[0] === undefined ? undefined : basename(resolve(positionals[0])));
  if (template === undefined || name === undefined) {
    if (io.input.isTTY !== true) return fail(`${template === undefined ? '--template' : 'a name'} is missing (nothing to ask: not a terminal)\n\n${usage}`);
    const ask = createInterface({input: io.input, output: io.output});
    try {
      while (template === undefined || !isTemplate(template)) {
        template = (await ask.question(`Template (${Object.keys(TEMPLATES).join(', ')}) [lit]: `)).trim() || 'lit';
      }
      while (name === undefined || checkName(name) !== undefined) {
        if (name !== undefined) say(checkName(name)!);
        name = (await ask.question('Project name [my-app]: ')).trim() || 'my-app';
      }
    } finally {
      ask.close();
    }
  }
  if (!isTemplate(template)) return fail(`unknown template "${template}"\n\n${usage}`);
  const problem = checkName(name);
  if (problem !== undefined) return fail(problem);
  try {
    const result = scaffold({template: template as TemplateName, name, ...(positionals[0] === undefined ? {} : {directory: positionals[0]})});
    const where = relative(process.cwd(), result.directory) || '.';
    say(`Created ${where}: ${TEMPLATES[template as TemplateName]}.\n\nNext:\n  cd ${where}\n  npm install\n  npm test        # type-check, build, Playwright in Chromium\n  npm run dev     # ${template === 'shell' ? 'the shell and its hub' : 'the standalone page with hot reload'}`);
    return 0;
  } catch (error) {
    return fail((error as Error).message, 1);
  }
}
