import { executionAsyncResource } from 'node:async_hooks';
import { setFlagsFromString } from 'node:v8';

/**
 * V8 settings of a Tollgate process, applied before any other module runs (`bin.ts` imports this first).
 *
 * `--no-allocation-site-pretenuring`: during start-up, V8 sometimes decides (survival ratio just above its 0.85
 * cut-off, so it depends on start-up timing) to allocate Node core's `process.nextTick` argument arrays and tick
 * objects directly in the old generation, and never revisits that decision. Under load, each of those short-lived
 * old objects then points at a young `IncomingMessage`/`ServerResponse` and their stream state, which every
 * scavenge keeps alive and the next one promotes: ~35% of everything a request allocates was promoted, with a
 * 6–12 ms scavenge every ~55 ms and a mark-compact every ~1.3 s, in 7 of 9 starts. With pretenuring off, promotion
 * is under 1% in every start (docs/operations.md, "Node.js heap"). Node documents changing V8 flags after start-up
 * as unsupported; this one only changes where new objects are allocated, and a flag given on the command line
 * (`node --allocation-site-pretenuring …`) wins.
 */
if (!process.execArgv.some((flag) => flag.startsWith('--allocation-site-pretenuring'))) {
  setFlagsFromString('--no-allocation-site-pretenuring');
}

/**
 * Tick objects kept alive for the life of the process (never read).
 *
 * Node's `process.nextTick` builds each tick object from one literal with computed keys (`{ [async_id_symbol]: …,
 * [trigger_async_id_symbol]: …, callback, args }`), several per HTTP request. When no tick object is alive during a
 * full GC, V8 may drop the map those objects share; the next ones get a new map, and after enough of those rounds
 * during start-up (loading Tollgate's modules takes several full GCs) the literal's inline cache gives up and every
 * tick object is built on V8's slow path (`Runtime_DefineKeyedOwnPropertyInLiteral`, map migrations) for the rest of
 * the process: `process.nextTick` cost ~230–330 ns instead of ~60 ns in 5 of 6 started processes measured, which
 * was most of the gap between a bare handler and the same handler inside Tollgate, and the long-observed "slow
 * processes". Keeping one tick object of each shape (with and without arguments) alive from before any other module
 * loads keeps that map, and the cache stays fast (6 of 6). Must run before the rest of the program is imported:
 * `bin.ts` imports the CLI dynamically after this module.
 */
const retainedTickObjects: unknown[] = [];
await new Promise<void>((resolve) => {
  process.nextTick(() => {
    retainedTickObjects.push(executionAsyncResource());
    process.nextTick((_argument: unknown) => {
      retainedTickObjects.push(executionAsyncResource());
      resolve();
    }, 0);
  });
});
