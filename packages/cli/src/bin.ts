#!/usr/bin/env node
// First: V8 settings must be in place before any other module runs (and finish: it awaits a tick), so the CLI is
// imported dynamically after it.
import './v8-flags.js';

const { runCli } = await import('./index.js');

await runCli(process.argv);
