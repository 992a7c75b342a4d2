import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// Runs against the built package (`npm test` builds first): what users get from npm, loaded by plain
// Node in a child process, through the package's `exports` map, as ESM and as CommonJS.
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  dependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  peerDependencies?: Record<string, string>;
};

const ENTRY_POINTS: Record<string, string[]> = {
  '@tollgate/sdk': ['instrument', 'wrapAnthropicTools', 'wrapOpenAITools', 'ThothClient', 'ThothPolicyViolation', 'PolicyViolationError', 'EnforcementMode', 'DecisionType', 'EventType', 'SourceType', 'flush', 'shutdown', 'SecureAgent'],
  '@tollgate/sdk/anthropic': ['wrapAnthropicTools'],
  '@tollgate/sdk/openai': ['wrapOpenAITools'],
  '@tollgate/sdk/langchain': ['instrument', 'instrumentLangChainTools', 'instrumentAgentExecutor'],
  '@tollgate/sdk/ai': ['wrapAITools'],
  '@tollgate/sdk/mcp': ['wrapMcpClient', 'wrapMcpServer', 'wrapMcpToolHandler'],
};

function node(args: string[]): string {
  return execFileSync(process.execPath, args, { cwd: root, encoding: 'utf8' });
}

describe('the built @tollgate/sdk package', () => {
  it('has been built (run `npm run build` first)', () => {
    expect(existsSync(join(root, 'dist/index.js'))).toBe(true);
    expect(existsSync(join(root, 'dist/cjs/index.js'))).toBe(true);
  });

  it('has zero runtime dependencies and only optional peer dependencies', () => {
    expect(manifest.dependencies ?? {}).toEqual({});
    for (const name of Object.keys(manifest.peerDependencies ?? {})) expect(manifest.peerDependenciesMeta?.[name]?.optional).toBe(true);
  });

  it.each(Object.entries(ENTRY_POINTS))('%s loads with require() and import() and exports its API', (specifier, names) => {
    const probe = `const m = MODULE; console.log(JSON.stringify(${JSON.stringify(names)}.filter((n) => m[n] === undefined)));`;
    const viaRequire = node(['-e', probe.replace('MODULE', `require(${JSON.stringify(specifier)})`)]);
    const viaImport = node(['--input-type=module', '-e', probe.replace('const m = MODULE;', `const m = await import(${JSON.stringify(specifier)});`)]);
    expect(JSON.parse(viaRequire)).toEqual([]);
    expect(JSON.parse(viaImport)).toEqual([]);
  });

  it('shares one runtime and recognises errors across the ESM and CommonJS copies', () => {
    const script = `
      import { createRequire } from 'node:module';
      const esm = await import('@tollgate/sdk');
      const cjs = createRequire(import.meta.url)('@tollgate/sdk');
      const error = new cjs.PolicyViolationError({ toolName: 't', reason: 'r' });
      // An observe-mode call against a closed port fails open and queues a PRE and a POST event in the ESM copy.
      const agent = esm.instrument({ tools: [{ name: 't', run: async () => 'ok' }] }, { agentId: 'a', apiUrl: 'http://127.0.0.1:9', enforcement: 'observe', logLevel: 'SILENT' });
      await agent.tools[0].run('x');
      console.log(JSON.stringify([error instanceof esm.ThothPolicyViolation, error instanceof esm.TollgateSdkError, cjs.eventStats().queued]));
      await cjs.shutdown(1);
    `;
    expect(JSON.parse(node(['--input-type=module', '-e', script]))).toEqual([true, true, 2]);
  });

  it('type-checks user code written with the real MCP SDK classes (test/types/*.ts) against its declarations', () => {
    // `wrapMcpServer(new McpServer(…))` once failed to compile: McpServer's private `_registeredTools` clashed
    // with a public member of the same name in the adapter's structural type.
    const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
    const run = () => execFileSync(process.execPath, [tsc, '-p', join(root, 'test/types/tsconfig.json')], { cwd: root, encoding: 'utf8', stdio: 'pipe' });
    expect(run).not.toThrow();
  }, 60_000);
});
