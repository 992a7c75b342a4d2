import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, statSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadMasterKey, MASTER_KEY_FILE } from './master-key.js';
import { SealedBox } from './sealed-box.js';
import { Vault } from './vault.js';

const dirs: string[] = [];
afterEach(() => { for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true }); });
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-vault-'));
  dirs.push(dir);
  return dir;
}

/** Re-encodes the packed part after `mutate` changed its bytes. */
function tamper(sealed: string, mutate: (raw: Buffer) => void): string {
  const [prefix, keyId, packed] = sealed.split('.');
  const raw = Buffer.from(packed ?? '', 'base64url');
  mutate(raw);
  return `${prefix}.${keyId}.${raw.toString('base64url')}`;
}

const decryptFailed = expect.objectContaining({ code: 'VAULT_DECRYPT_FAILED' }) as unknown as Error;

describe('Vault credentials', () => {
  const vault = new Vault(randomBytes(32));
  const owner = { tenantId: 'tenant-a', id: 'cred_1', name: 'stripe' };
  const sealed = vault.sealCredential(owner, 'sk-live-secret');

  it('round-trips and never contains the plaintext', () => {
    expect(vault.openCredential(owner, sealed)).toBe('sk-live-secret');
    expect(sealed).not.toContain('sk-live-secret');
    expect(Buffer.from(sealed.split('.')[2] ?? '', 'base64url').toString('latin1')).not.toContain('sk-live');
  });

  it('uses a fresh IV per seal: the same value seals differently', () => {
    expect(vault.sealCredential(owner, 'sk-live-secret')).not.toBe(sealed);
  });

  it.each([
    ['a flipped ciphertext bit', (raw: Buffer) => { raw[raw.length - 1]! ^= 1; }],
    ['a flipped IV bit', (raw: Buffer) => { raw[0]! ^= 0x80; }],
    ['a flipped tag bit', (raw: Buffer) => { raw[12]! ^= 1; }],
    ['a truncated tag', (raw: Buffer) => { raw.copyWithin(12, 13); }],
  ])('refuses %s', (_name, mutate) => {
    expect(() => vault.openCredential(owner, tamper(sealed, mutate))).toThrowError(decryptFailed);
  });

  it('refuses a value moved to another tenant, credential id or name (AAD)', () => {
    expect(() => vault.openCredential({ ...owner, tenantId: 'tenant-b' }, sealed)).toThrowError(decryptFailed);
    expect(() => vault.openCredential({ ...owner, id: 'cred_2' }, sealed)).toThrowError(decryptFailed);
    expect(() => vault.openCredential({ ...owner, name: 'weather' }, sealed)).toThrowError(decryptFailed);
  });

  it('still opens a value sealed before the name was bound (AAD v1), but only for its tenant and id', () => {
    const key = randomBytes(32);
    const legacy = new SealedBox(key).seal('old-secret', JSON.stringify(['tollgate/credential/v1', 'tenant-a', 'cred_1']));
    const current = new Vault(key);
    expect(current.openCredential(owner, legacy)).toBe('old-secret');
    expect(() => current.openCredential({ ...owner, id: 'cred_2' }, legacy)).toThrowError(decryptFailed);
    // A value sealed now carries the name in its tag: the v1 fallback cannot open it under another name.
    expect(() => current.openCredential({ ...owner, name: 'other' }, current.sealCredential(owner, 'new-secret'))).toThrowError(decryptFailed);
  });

  it('refuses a value sealed under another master key, naming the key mismatch', () => {
    const other = new Vault(randomBytes(32));
    expect(() => other.openCredential(owner, sealed)).toThrowError(/another master key/);
    // Even with the key id forged to match, the GCM tag still fails.
    const forged = sealed.replace(`.${vault.keyId}.`, `.${other.keyId}.`);
    expect(() => other.openCredential(owner, forged)).toThrowError(decryptFailed);
  });

  it.each(['', 'garbage', 'tgv1.x', 'tgv1.a.b.c', 'tgv1.00000000.!!!', 'tgv1.00000000.AAAA'])('refuses malformed %j', (value) => {
    expect(() => vault.openCredential(owner, value)).toThrowError(decryptFailed);
  });
});

describe('Vault key wrapping', () => {
  it('binds purpose and tenant', () => {
    const vault = new Vault(randomBytes(32));
    const signingKey = randomBytes(32);
    const sealed = vault.wrapKey('ledger-signing', signingKey, 'tenant-a');
    expect(vault.unwrapKey('ledger-signing', sealed, 'tenant-a').equals(signingKey)).toBe(true);
    expect(() => vault.unwrapKey('other-purpose', sealed, 'tenant-a')).toThrowError(decryptFailed);
    expect(() => vault.unwrapKey('ledger-signing', sealed, 'tenant-b')).toThrowError(decryptFailed);
    expect(() => vault.unwrapKey('ledger-signing', sealed)).toThrowError(decryptFailed);
  });
});

describe('loadMasterKey', () => {
  it('generates a key file with mode 0600 once and reuses it', () => {
    const dir = tempDir();
    const first = loadMasterKey({ dataDir: dir });
    expect(statSync(join(dir, MASTER_KEY_FILE)).mode & 0o777).toBe(0o600);
    expect(loadMasterKey({ dataDir: dir }).equals(first)).toBe(true);
  });

  it('prefers the configured key (hex or base64)', () => {
    const key = randomBytes(32);
    expect(loadMasterKey({ configuredKey: key.toString('hex'), dataDir: tempDir() }).equals(key)).toBe(true);
    expect(loadMasterKey({ configuredKey: key.toString('base64') }).equals(key)).toBe(true);
  });

  it.each(['short', 'ab'.repeat(31), randomBytes(16).toString('base64')])('rejects a configured key of the wrong size (%s)', (value) => {
    expect(() => loadMasterKey({ configuredKey: value })).toThrowError(expect.objectContaining({ code: 'VAULT_KEY_INVALID' }) as unknown as Error);
  });

  // Regression: base64 decoding skipped characters outside the alphabet and took any 43 letters as 32 bytes, so a
  // passphrase, a value with spaces or junk in it, or all zero bytes started the server with a guessable key.
  it.each([
    ['a 43-character passphrase', 'my-vault-passphrase-for-tollgate-prod-2026x'],
    ['a passphrase with spaces', 'changeme changeme changeme changeme changeme cha'],
    ['junk inside base64', `${randomBytes(32).toString('base64').slice(0, 20)}!!${randomBytes(32).toString('base64').slice(20)}`],
    ['all zero bytes (hex)', '0'.repeat(64)],
    ['all zero bytes (base64)', Buffer.alloc(32).toString('base64')],
    ['a repeated pattern', 'deadbeef'.repeat(8)],
  ])('rejects a configured key that is not 32 random bytes in hex or base64: %s', (_name, value) => {
    expect(() => loadMasterKey({ configuredKey: value })).toThrowError(expect.objectContaining({ code: 'VAULT_KEY_INVALID' }) as unknown as Error);
  });

  it('accepts base64url and unpadded base64 and never names the key in an error', () => {
    const key = randomBytes(32);
    expect(loadMasterKey({ configuredKey: key.toString('base64url') }).equals(key)).toBe(true);
    expect(loadMasterKey({ configuredKey: key.toString('base64').replace(/=+$/, '') }).equals(key)).toBe(true);
    const bad = `${key.toString('hex')}00`;
    expect(() => loadMasterKey({ configuredKey: bad })).toThrowError(expect.not.objectContaining({ message: expect.stringContaining(key.toString('hex').slice(0, 16)) }) as unknown as Error);
  });

  it('refuses a key file that group or others can read', () => {
    const dir = tempDir();
    const path = join(dir, MASTER_KEY_FILE);
    writeFileSync(path, randomBytes(32).toString('hex'));
    chmodSync(path, 0o644);
    expect(() => loadMasterKey({ dataDir: dir })).toThrowError(/chmod 600/);
  });

  it('a SealedBox refuses a key of the wrong length', () => {
    expect(() => new SealedBox(randomBytes(31))).toThrowError(expect.objectContaining({ code: 'VAULT_KEY_INVALID' }) as unknown as Error);
  });
});
