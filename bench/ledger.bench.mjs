// Ledger benchmark (@tollgate/server ledger on SQLite, through the real services).
// 1. Appends per second with proofs available: 1,000,000 concurrent `services.ledger.append` calls of typical
//    enforce records, group-committed, each stored with every perfect-subtree hash it completes. This run is also
//    how the big ledger is built (bulk load through the real path). Target ≥ 50,000 records/s.
// 2. Inclusion proof in that 1,000,000-record ledger, as the /api/v1/audit/proof/inclusion handler computes it
//    (O(log n) stored-node lookups, no rebuild), p50 over random records. Target ≤ 1 ms.
// 3. Export and offline verification of that whole ledger as a JSON Lines bundle (`tollgate audit export` /
//    `tollgate audit verify`: the server's `bundleLines` written to a file, then read back line by line through the
//    CLI's reader and `verifyBundleLines`), records/s each and the heap they add (bounded: neither holds the log).
//    A one-document bundle of this ledger is refused (LEDGER_BUNDLE_TOO_LARGE) instead of being built in memory.
// CPU seconds are reported beside wall time: on a shared, loaded machine they show what the code itself costs.
import { createReadStream, createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { merkle, verifyBundleLines } from '../packages/core/dist/index.js';
import { readLines } from '../packages/cli/dist/commands/bundle-io.js';
import { closeServices, createLogger, createServices, loadConfig, migrateStore, openSqliteStore, systemClock } from '../packages/server/dist/index.js';

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
  const store = openSqliteStore({ filename: join(dataDir, 'ledger.db') });
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

    // 3. Streaming export and verification of the whole ledger.
    const bundlePath = join(dataDir, 'big.jsonl');
    const heapBefore = process.memoryUsage().heapUsed;
    let heapPeak = heapBefore;
    const sampleHeap = () => (heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed));
    const e0 = performance.now();
    const bundle = await ledger.bundleLines('big');
    const out = createWriteStream(bundlePath);
    let chunk = '';
    let lines = 0;
    for await (const line of bundle.lines) {
      chunk += `${line}\n`;
      if (chunk.length >= 65_536) {
        if (!out.write(chunk)) await once(out, 'drain');
        chunk = '';
        if (++lines % 200 === 0) sampleHeap();
      }
    }
    out.end(chunk);
    await once(out, 'finish');
    const exportSeconds = (performance.now() - e0) / 1000;
    const bundleBytes = (await stat(bundlePath)).size;
    const exportHeapMb = (heapPeak - heapBefore) / 1e6;
    log(`export: ${bundle.to} records as JSON Lines in ${round(exportSeconds, 1)} s = ${Math.round(bundle.to / exportSeconds)} records/s, ${round(bundleBytes / 1e6, 1)} MB, heap +${round(exportHeapMb, 1)} MB at most`);
    let verifyPeak = process.memoryUsage().heapUsed;
    const verifyBase = verifyPeak;
    const v0 = performance.now();
    const verification = await verifyBundleLines(readLines(createReadStream(bundlePath)), {
      trustedCheckpoint: checkpoint.note,
      onProgress: () => (verifyPeak = Math.max(verifyPeak, process.memoryUsage().heapUsed)),
    });
    const verifySeconds = (performance.now() - v0) / 1000;
    const verifyHeapMb = (verifyPeak - verifyBase) / 1e6;
    log(`verify: ${verification.ok ? 'OK' : 'FAILED'} ${verification.size} records, ${verification.checkpointsVerified} checkpoints in ${round(verifySeconds, 1)} s = ${Math.round(verification.size / verifySeconds)} records/s, heap +${round(verifyHeapMb, 1)} MB at most`);
    const refused = await ledger.bundle('big').then(() => 'built', (error) => error.code);
    log(`one-document bundle of ${bundle.to} records: ${refused}`);

    const metrics = {
      bundleExportRecordsPerSecond: Math.round(bundle.to / exportSeconds),
      bundleExportHeapMb: round(exportHeapMb, 1),
      bundleVerifyRecordsPerSecond: Math.round(verification.size / verifySeconds),
      bundleVerifyHeapMb: round(verifyHeapMb, 1),
      bundleBytes,
      bundleVerified: verification.ok,
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
    const pass = appendsPerSecond >= 50_000 && proofP50 <= 1 && verified === PROOFS && verification.ok && refused === 'LEDGER_BUNDLE_TOO_LARGE';
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
