import { parentPort } from 'node:worker_threads';
import { maskInput, maskOutcome } from './execution-redaction.js';
import type { MaskingTask, MaskingReply } from './masking-pool.js';

// Entry of a masking worker thread (run from `dist/`): masks one task at a time, in arrival order, and answers
// with the same id. Every failure is answered, so the pool can fall back instead of waiting forever.
parentPort?.on('message', (task: MaskingTask) => {
  let reply: MaskingReply;
  try {
    reply = task.kind === 'input' ? { id: task.id, input: maskInput(task.value) } : { id: task.id, outcome: maskOutcome(task.outcome) };
  } catch (error) {
    reply = { id: task.id, error: error instanceof Error ? error.message : String(error) };
  }
  parentPort?.postMessage(reply);
});
