import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type BetterSqlite3 from 'better-sqlite3';

/** Default interval between background WAL checkpoints. */
export const DEFAULT_CHECKPOINT_INTERVAL_MS = 250;

/** SQLite's own default `wal_autocheckpoint` (pages), restored when the background checkpointer stops. */
const SQLITE_DEFAULT_AUTOCHECKPOINT_PAGES = 1000;
/**
 * The connection's own automatic checkpoint while the worker runs: a backstop, not off. A checkpoint from another
 * connection can copy frames while the writer keeps appending, but it can never catch up with a writer that never
 * pauses, and the WAL only starts over once a checkpoint has copied all of it: under sustained load the WAL grew
 * without bound (2.2 GB in 24 s of saturated /v1/enforce). At this size the writing connection checkpoints
 * itself, between its transactions, which always completes; by then the worker has copied most frames, so it
 * has little left to do. Little, but not nothing: that checkpoint syncs the WAL and the database file on the
 * serving thread, ~10 ms on this machine whatever the remainder, so it is kept rare: 16,000 pages (64 MB, the
 * size the WAL file is truncated back to) is one such pause every few seconds under saturated /v1/enforce, where
 * 8,000 pages was one a second (with 2,000 pages: 130 stalls over 5 ms in 16 s).
 */
export const BACKSTOP_AUTOCHECKPOINT_PAGES = 16_000;
/** Bytes the WAL file is truncated to after it starts over (SQLite otherwise keeps its largest size on disk). */
export const WAL_SIZE_LIMIT_BYTES = 64 * 1024 * 1024;

/**
 * Delay before the next checkpoint while the WAL is still growing. A writer that never pauses keeps the WAL from
 * starting over, so the connection's backstop checkpoint ({@link BACKSTOP_AUTOCHECKPOINT_PAGES}) runs on the serving
 * thread anyway, and it copies every frame committed since the worker's last pass. With passes every 250 ms that was
 * up to ~2,000 pages plus two syncs: a 20–25 ms stall of the event loop about once a second under saturated
 * /v1/enforce, which was most of its p99 (10–15 ms). Following up quickly keeps that remainder to a few
 * milliseconds' worth (p99 6–7 ms in the same run, same throughput).
 */
export const FOLLOW_UP_CHECKPOINT_MS = 5;

/**
 * The worker: its own connection to the same file, running a PASSIVE checkpoint on a timer. PASSIVE never waits
 * for or blocks the writer; frames committed meanwhile are copied by the next round, which comes after
 * {@link FOLLOW_UP_CHECKPOINT_MS} while the WAL keeps growing (below 90% of the backstop size) and after the
 * configured interval once it is quiet or near the backstop; after a pass that saw the WAL past the backstop it skips
 * one turn.
 * Evaluated source that only uses dynamic `import()`, so it runs the same from sources (Vitest) and from `dist/`, as
 * CommonJS or as an ES module (a process started with `--input-type=module` evaluates worker source as ESM).
 */
const WORKER_SOURCE = `
(async () => {
  const { parentPort, workerData } = await import('node:worker_threads');
  const { default: Database } = await import(workerData.moduleUrl);
  const db = new Database(workerData.filename, { fileMustExist: true });
  db.pragma('busy_timeout = ' + workerData.busyTimeoutMs);
  const checkpoint = db.prepare('PRAGMA wal_checkpoint(PASSIVE)');
  let running = true;
  let timer;
  let lastLog = -1;
  // Near and past the backstop the serving connection checkpoints itself after its next commit (the only checkpoint
  // that lets a WAL under a never-pausing writer start over). A pass of ours then holds the checkpoint lock and makes
  // it skip, so the WAL keeps growing: follow-ups stop a tenth of the backstop before it, and once a pass has seen the
  // WAL past it, the next turn is left to the serving connection.
  const followUpBelow = Math.floor(workerData.backstopPages * 0.9);
  let yieldNext = false;
  const pass = () => {
    let delay = workerData.intervalMs;
    if (yieldNext) {
      yieldNext = false;
      lastLog = -1;
      if (running) timer = setTimeout(pass, delay);
      return;
    }
    try {
      const result = checkpoint.get();
      const log = result && typeof result.log === 'number' ? result.log : -1;
      if (workerData.reportPasses) parentPort.postMessage({ pass: { busy: result.busy === 1, log, checkpointed: result.checkpointed } });
      if (log > 0 && log !== lastLog && log < followUpBelow) delay = Math.min(delay, workerData.followUpMs);
      if (log >= workerData.backstopPages) yieldNext = true;
      lastLog = log;
    } catch (error) {
      if (running) parentPort.postMessage({ error: String((error && error.message) || error) });
    }
    if (running) timer = setTimeout(pass, delay);
  };
  timer = setTimeout(pass, workerData.intervalMs);
  parentPort.on('message', (message) => {
    if (message !== 'stop') return;
    running = false;
    clearTimeout(timer);
    try { checkpoint.run(); } catch {}
    db.close();
    parentPort.close();
  });
  parentPort.postMessage({ ready: true });
})().catch((error) => { throw error; });
`;

/** A running background checkpointer. */
export interface BackgroundCheckpointer {
  /** Stops the worker (after one last checkpoint) and gives automatic checkpoints back to the connection. */
  stop(): Promise<void>;
}

/** Options of {@link startBackgroundCheckpointer}. */
export interface CheckpointerOptions {
  readonly intervalMs?: number;
  readonly busyTimeoutMs: number;
  /** Told about checkpoint errors (the connection falls back to automatic checkpoints if the worker dies). */
  readonly onError?: (message: string) => void;
  /**
   * Told about every checkpoint pass (for observability and tests): the WAL's frames (`log`), how many of them are
   * in the database file (`checkpointed`), or `busy` when another checkpoint held the lock. Unset: not reported.
   */
  readonly onPass?: (pass: CheckpointPass) => void;
}

/** One background checkpoint pass, as SQLite's `PRAGMA wal_checkpoint(PASSIVE)` reported it. */
export interface CheckpointPass {
  readonly busy: boolean;
  readonly log: number;
  readonly checkpointed: number;
}

/**
 * Moves WAL checkpoints off the event loop. With SQLite's default `wal_autocheckpoint`, the commit that crosses
 * 1000 WAL pages copies them into the database file and syncs it, synchronously, on the thread serving requests:
 * a pause of milliseconds every few thousand decisions, which shows up directly in tail latency. Here a worker
 * thread with its own connection checkpoints every `intervalMs`, and the connection's automatic checkpoint only
 * runs as a backstop ({@link BACKSTOP_AUTOCHECKPOINT_PAGES}) when the worker cannot keep up with a writer that
 * never pauses. If the worker fails, SQLite's default is restored.
 *
 * @example
 * const checkpointer = await startBackgroundCheckpointer(database, { busyTimeoutMs: 5000 });
 * await checkpointer.stop(); // before database.close()
 */
export function startBackgroundCheckpointer(database: BetterSqlite3.Database, options: CheckpointerOptions): BackgroundCheckpointer {
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: {
      moduleUrl: pathToFileURL(createRequire(import.meta.url).resolve('better-sqlite3')).href,
      filename: database.name,
      intervalMs: options.intervalMs ?? DEFAULT_CHECKPOINT_INTERVAL_MS,
      followUpMs: FOLLOW_UP_CHECKPOINT_MS,
      backstopPages: BACKSTOP_AUTOCHECKPOINT_PAGES,
      reportPasses: options.onPass !== undefined,
      busyTimeoutMs: options.busyTimeoutMs,
    },
  });
  let stopping = false;
  const restoreAutomatic = () => {
    if (database.open) database.pragma(`wal_autocheckpoint = ${SQLITE_DEFAULT_AUTOCHECKPOINT_PAGES}`);
  };
  // Automatic checkpoints stay on until the worker has its connection, and come back if it fails.
  worker.on('message', (message: { ready?: boolean; error?: string; pass?: CheckpointPass }) => {
    if (message.pass) options.onPass?.(message.pass);
    if (message.ready && !stopping && database.open) database.pragma(`wal_autocheckpoint = ${BACKSTOP_AUTOCHECKPOINT_PAGES}`);
    if (message.error) options.onError?.(message.error);
  });
  worker.on('error', (error) => {
    options.onError?.(error.message);
    restoreAutomatic();
  });
  const exited = new Promise<void>((resolve) => {
    worker.once('exit', () => {
      restoreAutomatic();
      resolve();
    });
  });
  // The worker must not keep the process alive on its own.
  worker.unref();
  return {
    async stop() {
      if (!stopping) {
        stopping = true;
        // Referenced again while stopping: an unreferenced worker's exit would not keep a closing process alive
        // long enough to be awaited.
        worker.ref();
        worker.postMessage('stop');
      }
      await exited;
    },
  };
}
