// The Node.js flags `npm start` runs the server with (read from the root package.json's `start` script, so the
// benchmarks measure Tollgate as it is started and cannot drift from it; today there are none: the V8 settings
// Tollgate needs are applied by the CLI itself, packages/cli/src/v8-flags.ts). Reference servers (bare node:http,
// plain Fastify) get the same flags: the comparison is between handlers, not between runtime settings.
import { readFileSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));

/** e.g. ['--max-old-space-size=4096'] */
export const SERVER_NODE_FLAGS = (() => {
  const command = pkg.scripts.start.split('&&').map((part) => part.trim()).find((part) => part.startsWith('node '));
  if (!command) throw new Error('package.json "start" has no `node …` command');
  return command.split(/\s+/).slice(1).filter((token) => token.startsWith('--'));
})();
