import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, vi } from 'vitest';
import { runCli } from '../src/index.js';

/**
 * Runs the `tollgate` command in this process with stdout and stderr captured, and returns its exit code and output.
 * The exit code is read from `process.exitCode` (which the commands set) and reset afterwards.
 *
 * @example
 * const { code, out } = await runCliCaptured('policy', 'lint', 'policy.yaml');
 */
export async function runCliCaptured(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const stdout = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => (out.push(String(chunk)), true));
  const stderr = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => (err.push(String(chunk)), true));
  process.exitCode = 0;
  try {
    await runCli(['node', 'tollgate', ...args]);
  } finally {
    stdout.mockRestore();
    stderr.mockRestore();
  }
  const code = Number(process.exitCode ?? 0);
  process.exitCode = 0;
  return { code, out: out.join(''), err: err.join('') };
}

/**
 * A temporary directory for the enclosing `describe`, created before its tests and removed after them, with a helper
 * that writes a file into it and returns the path.
 *
 * @example
 * const files = useTempFiles('tollgate-policy-cli-');
 * const path = await files.write('policy.yaml', 'rules: []');
 */
export function useTempFiles(prefix: string): { write(name: string, text: string): Promise<string> } {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), prefix));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  return {
    async write(name, text) {
      const path = join(dir, name);
      await writeFile(path, text);
      return path;
    },
  };
}
