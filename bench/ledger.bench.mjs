// Ledger benchmark (@tollgate/server ledger on SQLite, through the real services).
// 1. Appends per second with proofs available: 1,000,000 concurrent `services.ledger.append` calls of typical
//    enforce records, group-committed, each stored with every perfect-subtree hash it completes. This run is also
//    how the big ledger is built (bulk load through the real path). Target ≥ 50,000 records/s.
// 2. Inclusion proof in that 1,000,000-record ledger, as the /api/v1/audit/proof/inclusion handler computes it
//    (O(log n) stored-node lookups, no rebuild), p50 over random records. Target ≤ 1 ms.
// 3. Export and offline verification of that whole ledger as a JSON Lines bundle: `tollgate audit export` and
//    `tollgate audit verify`, each in its own process with the heap capped at 64 MB (the bundle is ~440 MB, so
//    neither can hold it), records/s each. A one-document bundle of this ledger is refused (LEDGER_BUNDLE_TOO_LARGE)
//    instead of being built in memory.
// CPU seconds are reported beside wall time: on a shared, loaded machine they show what the code itself costs.
import { spawn } from 'node:child_process';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { merkle } from '../packages/core/dist/index.js';
import { SQLITE_FILE_NAME, closeServices, createLogger, createServices, loadConfig, migrateStore, openSqliteStore, systemClock } from '../packages/server/dist/index.js';

const CLI = fileURLToPath(new URL('../packages/cli/dist/bin.js', import.meta.url));
const CLI_HEAP_MB = 64;

/** Runs `tollgate …` in its own process with a capped heap; exit code, output and wall seconds. */
function cli(args) {
  return new Promise((resolve) => {
    const started = performance.now();
    const child = spawn(process.execPath, [`--max-old-space-size=${CLI_HEAP_MB}`, CLI, ...args], { env: { ...process.env, DATABASE_URL: '' } });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    child.stderr.on('data', (chunk) => (err += chunk));
    child.on('close', (code) => resolve({ code, out, err, seconds: (performance.now() - started) / 1000 }));
  });
}

const BIG_LEDGER = 1_000_000;
const PROOFS = 2_000;
const CHUNK = 50_000;

const p = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
const round = (n, digits = 3) => Math.round(n * 10 ** digits) / 10 ** digits;

/** A typical enforce-decision record (~400 bytes of canonical JSON). */
function decision(i) {
  return {
    type: i % 10 === 0 ? 'enforce.violation' : 'enforce.decision',
    agentId: `agent-${i % 7}`,
    sessionId: `session-${i % 101}`,
    isViolation: i % 10 === 0,
    data: { toolName: 'send_email', decision: i % 10 === 0 ? 'BLOCK' : 'ALLOW', reason: 'rule email-external matched', matchedRules: ['email-external'], arguments: { to: `user${i}@example.com`, subject: 'Quarterly numbers' }, policyVersion: 3, n: i },
  };
}

async function appendMany(ledger, tenantId, count, make) {
  for (let done = 0; done < count; done += CHUNK) {
    const size = Math.min(CHUNK, count - done);
    await Promise.all(Array.from({ length: size }, (_, i) => ledger.append(tenantId, make(done + i))));
  }
}

export default async function run({ log = console.log } = {}) {
  const dataDir = await mkdtemp(join(tmpdir(), 'tollgate-ledger-bench-'));
  const config = loadConfig({}, { dataDir, logLevel: 'silent', ledgerCheckpointEvery: 100_000 });
  const store = openSqliteStore({ filename: join(dataDir, SQLITE_FILE_NAME) });
  await migrateStore(store);
  const services = await createServices({ config, store, clock: systemClock(), logger: createLogger('silent') });
  try {
    const ledger = services.ledger;
    await appendMany(ledger, 'warmup', 20_000, decision);

    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    await appendMany(ledger, 'big', BIG_LEDGER, decision);
    const seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const cpuSeconds = (cpu.user + cpu.system) / 1e6;
    const appendsPerSecond = BIG_LEDGER / seconds;
    log(`appends: ${Math.round(appendsPerSecond)} records/s over ${BIG_LEDGER} records (${round(seconds, 1)} s wall, ${round(cpuSeconds, 1)} s CPU = ${Math.round(BIG_LEDGER / cpuSeconds)} records per CPU-second)`);
    const checkpoint = await ledger.checkpoint('big');
    const samples = [];
    let verified = 0;
    for (let i = 0; i < PROOFS; i++) {
      const index = Math.floor(Math.random() * BIG_LEDGER);
      const start = performance.now();
      const proof = await ledger.inclusionProof('big', index, checkpoint.size);
      samples.push(performance.now() - start);
      if (merkle.verifyInclusion(merkle.fromHex(proof.leafHash), index, proof.size, proof.proof.map(merkle.fromHex), merkle.fromHex(checkpoint.rootHash))) verified += 1;
    }
    samples.sort((a, b) => a - b);
    const proofP50 = p(samples, 0.5);
    log(`inclusion proof in ${BIG_LEDGER} records: p50 ${round(proofP50)} ms, p99 ${round(p(samples, 0.99))} ms, ${verified}/${PROOFS} verified`);

    // 3. Streaming export and verification of the whole ledger, by the CLI as a user runs it, each in its own
    // process with the V8 heap capped at 64 MB: the 1,000,000-record bundle (~440 MB) cannot be held in memory, so
    // success shows that neither side keeps the log. (The bench's own connection stays open: SQLite WAL readers.)
    const bundlePath = join(dataDir, 'big.jsonl');
    const trustedPath = join(dataDir, 'checkpoint.txt');
    await writeFile(trustedPath, checkpoint.note);
    const exported = await cli(['audit', 'export', '--data-dir', dataDir, '--tenant', 'big', '--out', bundlePath]);
    const bundleBytes = (await stat(bundlePath)).size;
    log(`export: ${exported.code === 0 ? 'OK' : `FAILED (${exported.err.trim()})`} ${BIG_LEDGER} records as JSON Lines in ${round(exported.seconds, 1)} s = ${Math.round(BIG_LEDGER / exported.seconds)} records/s, ${round(bundleBytes / 1e6, 1)} MB, heap capped at ${CLI_HEAP_MB} MB`);
    const verifiedRun = await cli(['audit', 'verify', bundlePath, '--trusted-checkpoint', trustedPath]);
    const verifiedOk = verifiedRun.code === 0 && verifiedRun.out.startsWith(`OK: ${checkpoint.size} records`);
    log(`verify: ${verifiedRun.out.split('\n')[0]} in ${round(verifiedRun.seconds, 1)} s = ${Math.round(checkpoint.size / verifiedRun.seconds)} records/s, heap capped at ${CLI_HEAP_MB} MB`);
    const refused = await ledger.bundle('big').then(() => 'built', (error) => error.code);
    log(`one-document bundle of ${checkpoint.size} records: ${refused}`);

    const metrics = {
      bundleExportRecordsPerSecond: Math.round(BIG_LEDGER / exported.seconds),
      bundleVerifyRecordsPerSecond: Math.round(checkpoint.size / verifiedRun.seconds),
      bundleBytes,
      bundleCliHeapLimitMb: CLI_HEAP_MB,
      bundleExported: exported.code === 0,
      bundleVerified: verifiedOk,
      jsonBundleOfBigLedger: refused,
      appendsPerSecond: Math.round(appendsPerSecond),
      appendsPerCpuSecond: Math.round(BIG_LEDGER / cpuSeconds),
      appendWallSeconds: round(seconds, 1),
      inclusionProofP50Ms: round(proofP50),
      inclusionProofP99Ms: round(p(samples, 0.99)),
      ledgerRecords: BIG_LEDGER,
      proofsVerified: verified,
    };
    const targets = { appendsPerSecond: '>= 50000', inclusionProofP50Ms: '<= 1' };
    const pass = appendsPerSecond >= 50_000 && proofP50 <= 1 && verified === PROOFS && exported.code === 0 && verifiedOk && refused === 'LEDGER_BUNDLE_TOO_LARGE';
    return { name: 'ledger', metrics, targets, pass };
  } finally {
    await closeServices(services);
    await store.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const result = await run();
  console.log(JSON.stringify(result, null, 2));
}
