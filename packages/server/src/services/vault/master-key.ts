import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TollgateError } from '@tollgate/core';
import { MASTER_KEY_BYTES } from './sealed-box.js';

/** File name of the generated master key inside the data directory. */
export const MASTER_KEY_FILE = 'vault-master.key';

export interface MasterKeyOptions {
  /** Key from configuration (`TOLLGATE_VAULT_KEY`): 32 bytes as 64 hex digits or base64. Wins over the file. */
  configuredKey?: string | undefined;
  /** Data directory holding the generated key file when no key is configured. */
  dataDir?: string | undefined;
}

/**
 * Loads the vault master key: the configured value, else `<dataDir>/vault-master.key` (created on first use
 * with mode 0600; refused when group or others can read it). Several replicas on one PostgreSQL must share a
 * configured key.
 *
 * @example
 * const key = loadMasterKey({ configuredKey: config.vaultKey, dataDir: config.dataDir });
 */
export function loadMasterKey(options: MasterKeyOptions): Buffer {
  if (options.configuredKey) return parseKey(options.configuredKey, 'TOLLGATE_VAULT_KEY');
  if (!options.dataDir) {
    throw new TollgateError('VAULT_KEY_INVALID', 'no vault master key: set TOLLGATE_VAULT_KEY or give the server a data directory');
  }
  const path = join(options.dataDir, MASTER_KEY_FILE);
  mkdirSync(options.dataDir, { recursive: true });
  try {
    // 'wx' fails if the file exists, so two processes starting together cannot overwrite each other's key.
    writeFileSync(path, randomBytes(MASTER_KEY_BYTES).toString('hex') + '\n', { flag: 'wx', mode: 0o600 });
    chmodSync(path, 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  const mode = statSync(path).mode & 0o777;
  if ((mode & 0o077) !== 0) {
    throw new TollgateError('VAULT_KEY_INVALID', `${path} is readable by group or others (mode ${mode.toString(8)}); chmod 600 it`);
  }
  return parseKey(readFileSync(path, 'utf8').trim(), path);
}

/** Fewer distinct byte values than this in 32 bytes is not a random key (random keys have ~30; see parseKey). */
const MIN_DISTINCT_BYTES = 16;

// Strict on purpose: Node's base64 decoder skips characters outside the alphabet and takes any 43 letters as 32
// bytes, so a passphrase or a value with junk in it would silently become a guessable key.
function parseKey(text: string, source: string): Buffer {
  const trimmed = text.trim();
  const expected = `${source} must hold ${MASTER_KEY_BYTES} random bytes as 64 hex digits or base64 (e.g. openssl rand -hex 32)`;
  let key: Buffer;
  if (/^[0-9a-fA-F]{64}$/.test(trimmed)) {
    key = Buffer.from(trimmed, 'hex');
  } else {
    const unpadded = trimmed.replace(/=+$/, '');
    key = Buffer.from(unpadded, 'base64');
    const canonical = [key.toString('base64').replace(/=+$/, ''), key.toString('base64url')];
    if (key.length !== MASTER_KEY_BYTES || !canonical.includes(unpadded) || trimmed.length - unpadded.length > 1) {
      throw new TollgateError('VAULT_KEY_INVALID', expected);
    }
    // 43 random base64 characters hold upper- and lower-case letters (the chance of lacking either is ~2e-10);
    // a passphrase usually does not.
    if (!/[A-Z]/.test(unpadded) || !/[a-z]/.test(unpadded)) throw new TollgateError('VAULT_KEY_INVALID', `${expected}; this looks like a passphrase`);
  }
  if (new Set(key).size < MIN_DISTINCT_BYTES) throw new TollgateError('VAULT_KEY_INVALID', `${expected}; this one repeats a few byte values`);
  return key;
}
