#!/usr/bin/env node
// First: V8 settings must be in place before any other module runs (and finish: it awaits a tick), so the CLI is
// imported dynamically after it.
import './v8-flags.js';

// Output piped into a reader that stopped (`tollgate … | head`): stop quietly, as other command-line tools do.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
}

const { runCli } = await import('./index.js');

await runCli(process.argv);
