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
