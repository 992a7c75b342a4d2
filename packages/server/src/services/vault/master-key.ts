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

function parseKey(text: string, source: string): Buffer {
  const trimmed = text.trim();
  const key = /^[0-9a-fA-F]{64}$/.test(trimmed) ? Buffer.from(trimmed, 'hex') : Buffer.from(trimmed, 'base64');
  if (key.length !== MASTER_KEY_BYTES) {
    throw new TollgateError('VAULT_KEY_INVALID', `${source} must hold ${MASTER_KEY_BYTES} bytes as 64 hex digits or base64`);
  }
  return key;
}
