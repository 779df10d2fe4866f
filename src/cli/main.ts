#!/usr/bin/env node
// The `aipaygent` bin (package.json "bin"): runs one command line and exits with its code.
import { processIo } from './io.js';
import { run } from './run.js';

process.exitCode = await run(process.argv.slice(2), processIo());
