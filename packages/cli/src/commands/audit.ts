import { readFileSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { TollgateError, merkle, openCheckpoint, parseVerifierKey, verifyBundleText } from '@tollgate/core';
import type { BundleVerification, LedgerBundle } from '@tollgate/core';
import { SYSTEM_TENANT_ID } from '@tollgate/server';
import { DEFAULT_ALERT_TYPES, runAuditNotifier } from '../notify/audit-notifier.js';
import { runNotifyCommand, withNotifyFlags, type NotifyFlags } from './notify-shared.js';
import { print, withServices, withStorageFlags, type StorageFlags } from './shared.js';

interface SourceFlags extends StorageFlags {
  tenant: string;
  url?: string;
  apiKey?: string;
}

/** Adds how to reach the ledger: a running server (`--url`, `--api-key`) or the database itself. */
function withSourceFlags(command: Command): Command {
  return withStorageFlags(command)
    .option('--tenant <id>', 'tenant (direct database access)', SYSTEM_TENANT_ID)
    .option('--url <url>', 'read from a running server instead of the database (needs --api-key, scope audit:read)')
    .option('--api-key <key>', 'API key for --url');
}

async function fetchJson(flags: SourceFlags, path: string): Promise<unknown> {
  if (!flags.apiKey) throw new TollgateError('VALIDATION_FAILED', '--url needs --api-key');
  const response = await fetch(new URL(path, flags.url), { headers: { authorization: `Bearer ${flags.apiKey}` } });
  const body = (await response.json()) as { error?: { code?: string; message?: string } };
  if (!response.ok) throw new TollgateError('UNAVAILABLE', `${path}: HTTP ${response.status} ${body.error?.code ?? ''} ${body.error?.message ?? ''}`.trim());
  return body;
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
 * Human report of a bundle verification, one line per problem.
 * @example formatVerification(verifyBundle(bundle))
 */
export function formatVerification(result: BundleVerification): string[] {
  const lines = [
    `${result.ok ? 'OK' : 'FAILED'}: ${result.size} records, root ${result.rootHash}, ${result.checkpointsVerified} checkpoints checked`,
  ];
  for (const problem of result.problems) lines.push(`${problem.code}: ${problem.message}`);
  return lines;
}

/**
 * Offline verification of a bundle file (no server, no database).
 * @example verifyBundleFile('audit.json', { trustedCheckpoint: 'cp.txt' })
 */
export function verifyBundleFile(path: string, options: { trustedCheckpoint?: string; publicKey?: string }): BundleVerification {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
    JSON.parse(text);
  } catch (cause) {
    throw new TollgateError('LEDGER_BUNDLE_INVALID', `cannot read bundle ${path}: ${(cause as Error).message}`, { cause });
  }
  // From the text, not the parsed value: repeated keys and inexact integers are invisible once parsed.
  return verifyBundleText(text, {
    ...(options.trustedCheckpoint === undefined ? {} : { trustedCheckpoint: readFileSync(options.trustedCheckpoint, 'utf8') }),
    ...(options.publicKey === undefined ? {} : { expectedPublicKey: inlineOrFile(options.publicKey).trim() }),
  });
}

/**
 * `tollgate audit export|verify|proof`: offline-verifiable exports of the ledger (docs/ledger.md).
 * @example registerAuditCommand(program);
 */
export function registerAuditCommand(program: Command): void {
  const audit = program.command('audit').description('Export, verify and prove the tamper-evident audit ledger');

  withSourceFlags(audit.command('export').description('Write a bundle (records, checkpoints, public key) for offline verification'))
    .option('--out <file>', 'write the bundle here (default: stdout)')
    .action(async (flags: SourceFlags & { out?: string }) => {
      const bundle = flags.url
        ? ((await fetchJson(flags, '/api/v1/audit/bundle')) as LedgerBundle)
        : await withServices(flags, (services) => services.ledger.bundle(flags.tenant));
      const json = `${JSON.stringify(bundle)}\n`;
      if (!flags.out) return void process.stdout.write(json);
      writeFileSync(flags.out, json);
      const last = bundle.checkpoints.at(-1);
      process.stderr.write(`wrote ${bundle.records.length} records and ${bundle.checkpoints.length} checkpoints to ${flags.out}\n`);
      if (last) process.stderr.write(`keep this checkpoint to detect a later rollback (--trusted-checkpoint):\n${last}`);
    });

  audit
    .command('verify <bundle>')
    .description('Verify a bundle offline: rebuild the tree, check signatures, consistency and rollback')
    .option('--trusted-checkpoint <file>', 'a signed checkpoint kept from earlier; the bundle must extend it')
    .option('--public-key <vkey-or-file>', 'the log key known out of band; the bundle must be signed by it')
    .action((path: string, flags: { trustedCheckpoint?: string; publicKey?: string }) => {
      const result = verifyBundleFile(path, flags);
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
      if (!Number.isSafeInteger(index) || index < 0) throw new TollgateError('VALIDATION_FAILED', '--index must be a non-negative integer');
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
      const expectedKey = flags.publicKey === undefined ? undefined : inlineOrFile(flags.publicKey).trim();
      if (expectedKey !== undefined && expectedKey !== checkpoint.publicKey.trim()) {
        print(JSON.stringify({ index, verified: false, problem: 'PUBLIC_KEY_MISMATCH', message: 'the checkpoint is signed by another key than --public-key' }, null, 2));
        process.exitCode = 1;
        return;
      }
      const signed = openCheckpoint(checkpoint.note, parseVerifierKey(expectedKey ?? checkpoint.publicKey), checkpoint.origin);
      const ok = signed.size === proof.size && merkle.verifyInclusion(merkle.fromHex(proof.leafHash), index, proof.size, proof.proof.map(merkle.fromHex), signed.rootHash);
      print(JSON.stringify({ ...proof, checkpoint: checkpoint.note, verified: ok }, null, 2));
      if (!ok) process.exitCode = 1;
    });
}
