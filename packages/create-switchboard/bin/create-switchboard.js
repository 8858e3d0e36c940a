#!/usr/bin/env node
// The command `npm create switchboard` runs; the work is in dist/cli.js.
import {main} from '../dist/cli.js';

process.exitCode = await main(process.argv.slice(2));
