// CPU pinning for HTTP benchmarks on a small machine: the load generator (this process) on CPU 0 and the servers
// under test on CPU 1, so they never compete for a core and the scheduler's placement does not decide the result.
// Unpinned on this 2-core machine the same build's ratio moved between 0.66 and 0.87 from run to run (the servers
// and autocannon migrated between the cores); pinned, 0.70–0.74. Falls back to unpinned (and says so) without
// `taskset` or with fewer than 2 CPUs.
import { execFileSync } from 'node:child_process';
import { availableParallelism } from 'node:os';

function hasTaskset() {
  try {
    execFileSync('taskset', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** True when pinning is in effect for this run. */
export const PINNED = availableParallelism() >= 2 && hasTaskset();

/** Pins every thread of this process (the load generator) to CPU 0. */
export function pinLoadGenerator() {
  if (PINNED) execFileSync('taskset', ['-a', '-p', '-c', '0', String(process.pid)], { stdio: 'ignore' });
}

/** The command and arguments that start `argv` (a Node command line) on CPU 1. */
export function serverCommand(argv) {
  return PINNED ? ['taskset', ['-c', '1', ...argv]] : [argv[0], argv.slice(1)];
}
