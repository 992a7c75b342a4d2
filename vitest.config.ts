import { defineConfig } from 'vitest/config';

// Tests run against TypeScript sources: every workspace package exports a `source`
// condition pointing at src/index.ts, so no build is needed between edits.
export default defineConfig({
  resolve: { conditions: ['source'] },
  ssr: { resolve: { conditions: ['source'], externalConditions: ['source'] } },
  test: {
    include: ['packages/*/src/**/*.test.ts', 'packages/*/test/**/*.test.ts', 'examples/**/*.test.ts', 'bench/**/*.test.ts'],
    exclude: ['**/node_modules/**', '**/dist/**'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    reporters: ['default', './test-utils/summary-reporter.ts'],
    // eventsource-parser and eventsource publish a `source` export condition pointing at TypeScript files,
    // which the condition above selects; Node cannot load .ts, so they and the packages that import them
    // (the Vercel AI SDK) go through Vite instead of Node.
    server: { deps: { inline: ['eventsource-parser', 'eventsource', /[\\/]node_modules[\\/]ai[\\/]/, /@ai-sdk[\\/]/] } },
  },
});
