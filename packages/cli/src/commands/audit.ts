import { createWriteStream, readFileSync } from 'node:fs';
import { open, rename, rm, writeFile } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import type { Command } from 'commander';
import { TollgateError, bundleChunks, merkle, openCheckpoint, parseCheckpoint, parseSignedNote, parseVerifierKey, verifyBundleLines, verifyBundleText } from '@tollgate/core';
import type { BundleStreamVerification, BundleVerification, LedgerBundle, VerifyBundleOptions } from '@tollgate/core';
import { createProgress, openBundleInput, readAll, readLines, writeText } from './bundle-io.js';
import { SYSTEM_TENANT_ID } from '@tollgate/server';
import { DEFAULT_ALERT_TYPES, runAuditNotifier } from '../notify/audit-notifier.js';
import { runNotifyCommand, withNotifyFlags, type NotifyFlags } from './notify-shared.js';
import { printableText } from '../printable-text.js';
import { answerOf, apiKeyOf, print, printJson, serverRefusal, urlFlag, withServices, withStorageFlags, type StorageFlags } from './shared.js';

interface SourceFlags extends StorageFlags {
  tenant: string;
  url?: string;
  apiKey?: string;
}

/** Adds how to reach the ledger: a running server (`--url`, `--api-key`) or the database itself. */
function withSourceFlags(command: Command): Command {
  return withStorageFlags(command)
    .option('--tenant <id>', 'tenant (direct database access)', SYSTEM_TENANT_ID)
    .option('--url <url>', 'read from a running server instead of the database (needs --api-key, scope audit:read)', urlFlag('--url'))
    .option('--api-key <key>', 'API key for --url (default: env TOLLGATE_API_KEY, which keeps it out of the process list)');
}

async function fetchJson(flags: SourceFlags, path: string): Promise<unknown> {
  const response = await fetch(new URL(path, flags.url), { headers: { authorization: `Bearer ${apiKeyOf(flags, 'audit:read')}` } });
  return answerOf(path, response);
}

/** Reads a value given inline or as a file path. */
function inlineOrFile(value: string): string {
  try {
    return readFileSync(value, 'utf8');
  } catch {
    return value;
  }
}

/**
 * Human report of a bundle verification, one line per problem. A problem's message may quote the bundle (a key
 * name, a line), which need not come from a friendly server: its control characters are shown, not interpreted.
 * @example formatVerification(verifyBundle(bundle))
 */
export function formatVerification(result: BundleVerification | BundleStreamVerification): string[] {
  const from = 'from' in result ? result.from : 0;
  const range = from > 0 ? ` (records ${from}..${result.size - 1} in this bundle, the ones before through its frontier)` : '';
  const lines = [
    `${result.ok ? 'OK' : 'FAILED'}: ${result.size} records, root ${result.rootHash}, ${result.checkpointsVerified} checkpoint${result.checkpointsVerified === 1 ? '' : 's'} checked${range}`,
  ];
  for (const problem of result.problems) lines.push(`${problem.code}: ${printableText(problem.message)}`);
  if ('problemsOmitted' in result && result.problemsOmitted > 0) lines.push(`… and ${result.problemsOmitted} more problems`);
  return lines;
}

/** `tollgate audit verify`'s flags: file paths (or an inline key). */
interface VerifyFlags {
  trustedCheckpoint?: string;
  publicKey?: string;
}

/** The verifier's options from the flags: the trusted checkpoint read from its file, the key inline or from a file. */
function verifyOptionsOf(flags: VerifyFlags): VerifyBundleOptions {
  return {
    ...(flags.trustedCheckpoint === undefined ? {} : { trustedCheckpoint: readFileSync(flags.trustedCheckpoint, 'utf8') }),
    ...(flags.publicKey === undefined ? {} : { expectedPublicKey: inlineOrFile(flags.publicKey).trim() }),
  };
}

/**
 * Verifies a bundle file, or stdin for `-`, of either format: a streaming (JSON Lines) bundle is read line by line in
 * bounded memory with progress on stderr; a one-document bundle as {@link verifyBundleFile} does.
 * @example await verifyBundleInput('audit.jsonl', { trustedCheckpoint: 'cp.txt' })
 */
export async function verifyBundleInput(path: string, options: VerifyFlags): Promise<BundleVerification | BundleStreamVerification> {
  const verifyOptions = verifyOptionsOf(options);
  const input = await openBundleInput(path);
  if (!input.streaming) {
    // Bytes that are not UTF-8, or text that is not JSON, are a failed verification (BUNDLE_MALFORMED), like any
    // other problem of the file.
    return verifyBundleText(await readAll(input.chunks), verifyOptions);
  }
  const progress = createProgress('verified');
  return verifyBundleLines(readLines(input.chunks), {
    ...verifyOptions,
    onProgress: (size, header) => progress.update(size - (header?.from ?? 0), header === undefined ? undefined : header.to - header.from),
  });
}

/**
 * The export's output file, opened before anything is fetched so a missing directory or a read-only disk is a clear
 * error; a later write error (a full disk) fails the export instead of going unhandled.
 */
async function openOutput(path: string): Promise<Writable> {
  let handle;
  try {
    handle = await open(path, 'w');
  } catch (cause) {
    throw new TollgateError('VALIDATION_FAILED', `--out: cannot write ${path}: ${(cause as Error).message}`, { cause });
  }
  const stream = createWriteStream(path, { fd: handle });
  stream.on('error', () => undefined); // reported by the write or the close that meets it (writeText, end)
  return stream;
}

/** The size of a checkpoint note read from a file (its signature is checked by `verify`, not here). */
function checkpointSizeOf(path: string): number {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    throw new TollgateError('VALIDATION_FAILED', `--from-checkpoint: cannot read ${path}: ${(cause as Error).message}`, { cause });
  }
  try {
    return parseCheckpoint(parseSignedNote(text).text).size;
  } catch (cause) {
    throw new TollgateError('VALIDATION_FAILED', `--from-checkpoint: ${path} is not a checkpoint note: ${(cause as Error).message}`, { cause });
  }
}

interface ExportFlags extends SourceFlags {
  out?: string;
  format: string;
  from?: string;
  fromCheckpoint?: string;
  checkpointOut?: string;
}

/** Where an export starts: `--from`, or the size of the `--from-checkpoint` note; 0 by default and for `--format json`. */
function exportStart(flags: ExportFlags): number {
  if (flags.format !== 'jsonl' && flags.format !== 'json') throw new TollgateError('VALIDATION_FAILED', `--format must be jsonl or json, not ${flags.format}`);
  if (flags.from !== undefined && flags.fromCheckpoint !== undefined) throw new TollgateError('VALIDATION_FAILED', 'give --from or --from-checkpoint, not both');
  if (flags.format === 'json' && (flags.from !== undefined || flags.fromCheckpoint !== undefined)) {
    throw new TollgateError('VALIDATION_FAILED', '--from and --from-checkpoint need --format jsonl (a one-document bundle always starts at record 0)');
  }
  if (flags.fromCheckpoint !== undefined) return checkpointSizeOf(flags.fromCheckpoint);
  if (flags.from === undefined) return 0;
  const from = Number(flags.from);
  if (!/^\d+$/.test(flags.from) || !Number.isSafeInteger(from)) throw new TollgateError('VALIDATION_FAILED', '--from must be a non-negative integer');
  return from;
}

/**
 * Streams a JSON Lines bundle to `out`, from the server (`--url`) or the database, with progress on stderr.
 * Returns the number of records written and the last line (the checkpoint covering them).
 */
async function exportLines(flags: ExportFlags, from: number, out: Writable | NodeJS.WriteStream): Promise<{ records: number; lastLine: string }> {
  let lastLine = '';
  if (flags.url) {
    const response = await fetch(new URL(`/api/v1/audit/bundle?format=jsonl&from=${from}`, flags.url), { headers: { authorization: `Bearer ${apiKeyOf(flags, 'audit:read')}` } });
    if (!response.ok || response.body === null) {
      const body = (await response.json().catch(() => ({}))) as { error?: { code?: string; message?: string } };
      throw serverRefusal('/api/v1/audit/bundle', response.status, body);
    }
    const total = Number(response.headers.get('x-tollgate-bundle-to')) - from;
    const progress = createProgress('exported', Number.isFinite(total) ? total : undefined);
    const decoder = new TextDecoder();
    let tail = '';
    let records = 0;
    for await (const bytes of response.body as unknown as AsyncIterable<Uint8Array>) {
      const text = decoder.decode(bytes, { stream: true });
      await writeText(out, text);
      // Complete lines counted and the last one (the closing checkpoint) kept, holding at most one partial line.
      const joined = tail + text;
      const end = joined.lastIndexOf('\n');
      if (end === -1) {
        tail = joined;
        continue;
      }
      for (const line of joined.slice(0, end).split('\n')) {
        if (line.startsWith('{"record":')) records += 1;
        lastLine = line;
      }
      tail = joined.slice(end + 1);
      progress.update(records);
    }
    return { records, lastLine };
  }
  return withServices(flags, async (services) => {
    const bundle = await services.ledger.bundleLines(flags.tenant, { from });
    const progress = createProgress('exported', bundle.to - bundle.from);
    let records = 0;
    async function* counted(lines: AsyncIterable<string>): AsyncGenerator<string> {
      for await (const line of lines) {
        lastLine = line;
        if (line.startsWith('{"record":')) records += 1;
        yield line;
      }
    }
    for await (const chunk of bundleChunks(counted(bundle.lines))) {
      await writeText(out, chunk);
      progress.update(records);
    }
    return { records, lastLine };
  });
}


/**
 * Offline verification of a bundle file (no server, no database).
 * @example verifyBundleFile('audit.json', { trustedCheckpoint: 'cp.txt' })
 */
export function verifyBundleFile(path: string, options: VerifyFlags): BundleVerification {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (cause) {
    throw new TollgateError('LEDGER_BUNDLE_INVALID', `cannot read bundle ${path}: ${(cause as Error).message}`, { cause });
  }
  // From the bytes, not the parsed value: repeated keys and respelled numbers are invisible once parsed, and bytes
  // that are not UTF-8 once decoded leniently.
  return verifyBundleText(bytes, verifyOptionsOf(options));
}

/**
 * `tollgate audit export|verify|proof`: offline-verifiable exports of the ledger (docs/ledger.md).
 * @example registerAuditCommand(program);
 */
export function registerAuditCommand(program: Command): void {
  const audit = program.command('audit').description('Export, verify and prove the tamper-evident audit ledger');

  withSourceFlags(audit.command('export').description('Write a bundle (records, checkpoints, public key) for offline verification'))
    .option('--out <file>', 'write the bundle here (default: stdout); written to FILE.partial and renamed once complete')
    .option('--format <format>', 'jsonl: JSON Lines, streamed in bounded memory, any log size, can start from a kept checkpoint; json: one document (logs up to TOLLGATE_AUDIT_BUNDLE_JSON_MAX_RECORDS)', 'jsonl')
    .option('--from <index>', 'jsonl: first record to export (default 0); the records before it are vouched for by the frontier in the header')
    .option('--from-checkpoint <file>', 'jsonl: continue from a checkpoint kept from an earlier export (its size is the first record); verify with --trusted-checkpoint FILE')
    .option('--checkpoint-out <file>', 'also write the checkpoint the export ends at to FILE (to keep, and to pass to the next --from-checkpoint)')
    .action(async (flags: ExportFlags) => {
      const from = exportStart(flags);
      const partial = flags.out === undefined ? undefined : `${flags.out}.partial`;
      const out = partial === undefined ? process.stdout : await openOutput(partial);
      let summary: { records: number; checkpoint: string | undefined };
      try {
        if (flags.format === 'json') {
          const bundle = flags.url
            ? ((await fetchJson(flags, '/api/v1/audit/bundle')) as LedgerBundle)
            : await withServices(flags, (services) => services.ledger.bundle(flags.tenant));
          await writeText(out, `${JSON.stringify(bundle)}\n`);
          summary = { records: bundle.records.length, checkpoint: bundle.checkpoints.at(-1) };
        } else {
          const { records, lastLine } = await exportLines(flags, from, out);
          const last = lastLine.startsWith('{"checkpoint":') ? (JSON.parse(lastLine) as { checkpoint: string }).checkpoint : undefined;
          summary = { records, checkpoint: last };
        }
        if (partial !== undefined) {
          await new Promise<void>((resolve, reject) => (out as Writable).end((error?: Error | null) => (error ? reject(error) : resolve())));
          await rename(partial, flags.out as string);
        }
      } catch (error) {
        if (partial !== undefined) {
          (out as Writable).destroy();
          await rm(partial, { force: true });
        }
        throw error;
      }
      const where = flags.out === undefined ? 'stdout' : flags.out;
      process.stderr.write(`wrote ${summary.records} records${from > 0 ? ` (from record ${from})` : ''} to ${where}\n`);
      if (summary.checkpoint === undefined) return;
      if (flags.checkpointOut !== undefined) {
        await writeFile(`${flags.checkpointOut}.partial`, summary.checkpoint);
        await rename(`${flags.checkpointOut}.partial`, flags.checkpointOut);
      }
      // The note as the server wrote it goes to --checkpoint-out; the terminal gets its control characters escaped.
      process.stderr.write(`keep this checkpoint: verify later exports against it (--trusted-checkpoint) and continue from it (--from-checkpoint):\n${printableText(summary.checkpoint, { keepNewlines: true })}`);
    });

  audit
    .command('verify <bundle>')
    .description('Verify a bundle offline (a file, or - for stdin; JSON Lines or one document): rebuild the tree, check signatures, consistency and rollback')
    .option('--trusted-checkpoint <file>', 'a signed checkpoint kept from earlier; the bundle must extend it')
    .option('--public-key <vkey-or-file>', 'the log key known out of band; the bundle must be signed by it')
    .action(async (path: string, flags: VerifyFlags) => {
      const result = await verifyBundleInput(path, flags);
      for (const line of formatVerification(result)) print(line);
      if (!result.ok) process.exitCode = 1;
    });

  withNotifyFlags(audit.command('notify'), 'audit:read')
    .description(`Post audit records worth an alert to a webhook as they are recorded (default: violations and ${DEFAULT_ALERT_TYPES.join(', ')}); runs until interrupted`)
    .option('--types <list>', 'comma-separated record types to post instead (e.g. enforcement.violation,policy.activated; * for every record)')
    .option('--state-file <path>', 'keeps the last ledger index handled, so a restart resumes right after it (no record missed or posted twice)')
    .action((flags: NotifyFlags & { types?: string; stateFile?: string }) => {
      const types = flags.types?.split(',').map((type) => type.trim()).filter((type) => type !== '');
      if (types !== undefined && types.length === 0) throw new TollgateError('VALIDATION_FAILED', '--types lists no record type');
      return runNotifyCommand(flags, 'audit alerts', (start) => runAuditNotifier({ ...start, types, stateFile: flags.stateFile }));
    });

  withSourceFlags(audit.command('proof').description('Inclusion proof of one record, checked against the latest signed checkpoint'))
    .requiredOption('--index <n>', 'ledger index of the record')
    .option('--public-key <vkey-or-file>', 'the log key known out of band; without it the key the server names is trusted')
    .action(async (flags: SourceFlags & { index: string; publicKey?: string }) => {
      const index = Number(flags.index);
      if (!/^\d+$/.test(flags.index) || !Number.isSafeInteger(index)) throw new TollgateError('VALIDATION_FAILED', '--index must be a non-negative integer');
      const expectedKey = flags.publicKey === undefined ? undefined : inlineOrFile(flags.publicKey).trim();
      if (expectedKey !== undefined) {
        try {
          parseVerifierKey(expectedKey);
        } catch (cause) {
          throw new TollgateError('VALIDATION_FAILED', `--public-key is not a verifier key (name+keyid+base64, as GET /api/v1/audit/public-key gives it): ${(cause as Error).message}`, { cause });
        }
      }
      const { proof, checkpoint } = flags.url
        ? await (async () => {
            const checkpoint = (await fetchJson(flags, '/api/v1/audit/checkpoint')) as { note: string; publicKey: string; origin: string; size: number };
            const proof = (await fetchJson(flags, `/api/v1/audit/proof/inclusion?index=${index}&size=${checkpoint.size}`)) as { size: number; leafHash: string; proof: string[] };
            return { checkpoint, proof };
          })()
        : await withServices(flags, async (services) => {
            const checkpoint = await services.ledger.checkpoint(flags.tenant);
            return { checkpoint, proof: await services.ledger.inclusionProof(flags.tenant, index, checkpoint.size) };
          });
      if (expectedKey !== undefined && expectedKey !== checkpoint.publicKey.trim()) {
        printJson({ index, verified: false, problem: 'PUBLIC_KEY_MISMATCH', message: 'the checkpoint is signed by another key than --public-key' });
        process.exitCode = 1;
        return;
      }
      const signed = openCheckpoint(checkpoint.note, parseVerifierKey(expectedKey ?? checkpoint.publicKey), checkpoint.origin);
      const ok = signed.size === proof.size && merkle.verifyInclusion(merkle.fromHex(proof.leafHash), index, proof.size, proof.proof.map(merkle.fromHex), signed.rootHash);
      printJson({ ...proof, checkpoint: checkpoint.note, verified: ok });
      if (!ok) process.exitCode = 1;
    });
}
