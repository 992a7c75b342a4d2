import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { canonicalJson } from '@tollgate/core';
import type { SandboxSigningKeyRepository } from '../../store/repositories/sandbox-signing-keys.js';
import type { Vault } from '../vault/vault.js';

/** Vault purpose under which the private key is sealed. */
export const SIGNING_KEY_PURPOSE = 'sandbox-execution-statement';

/** A detached Ed25519 signature over the RFC 8785 canonical JSON of a statement. */
export interface StatementSignature {
  algorithm: 'Ed25519';
  key_id: string;
  /** Base64 raw 32-byte public key, so anyone can check the signature offline. */
  public_key: string;
  signature: string;
}

/**
 * Signs execution statements with the server's Ed25519 key (created on first use, private half sealed by the
 * vault, shared by replicas through the database).
 *
 * @example
 * const signer = await StatementSigner.load(store.sandboxSigningKeys, vault, clock.now);
 * const sig = signer.sign({ execution_id: 7, ... });
 */
export class StatementSigner {
  private constructor(
    private readonly privateKey: KeyObject,
    readonly keyId: string,
    readonly publicKeyBase64: string,
  ) {}

  static async load(keys: SandboxSigningKeyRepository, vault: Vault, now: () => number): Promise<StatementSigner> {
    let record = await keys.current();
    if (!record) {
      const pair = generateKeyPairSync('ed25519');
      const publicKey = rawPublicKey(pair.publicKey);
      record = await keys.createIfAbsent({
        id: keyIdOf(publicKey),
        publicKey: publicKey.toString('base64'),
        sealedPrivateKey: vault.wrapKey(SIGNING_KEY_PURPOSE, pair.privateKey.export({ format: 'der', type: 'pkcs8' })),
        createdAt: now(),
      });
    }
    const der = vault.unwrapKey(SIGNING_KEY_PURPOSE, record.sealedPrivateKey);
    return new StatementSigner(createPrivateKey({ key: der, format: 'der', type: 'pkcs8' }), record.id, record.publicKey);
  }

  sign(statement: unknown): StatementSignature {
    const signature = sign(null, Buffer.from(canonicalJson(statement), 'utf8'), this.privateKey);
    return { algorithm: 'Ed25519', key_id: this.keyId, public_key: this.publicKeyBase64, signature: signature.toString('base64') };
  }
}

/**
 * Checks a statement signature offline (what a client or auditor does with the published public key).
 *
 * @example
 * verifyStatement(answer.statement, answer.signature); // true
 */
export function verifyStatement(statement: unknown, signature: StatementSignature): boolean {
  try {
    const raw = Buffer.from(signature.public_key, 'base64');
    const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: raw.toString('base64url') }, format: 'jwk' });
    return verify(null, Buffer.from(canonicalJson(statement), 'utf8'), key, Buffer.from(signature.signature, 'base64'));
  } catch {
    return false;
  }
}

function rawPublicKey(key: KeyObject): Buffer {
  const jwk = key.export({ format: 'jwk' });
  return Buffer.from(jwk.x ?? '', 'base64url');
}

function keyIdOf(publicKey: Buffer): string {
  return 'exec-' + createHash('sha256').update(publicKey).digest('hex').slice(0, 16);
}

/**
 * `sha256:<hex>` of a value's RFC 8785 canonical JSON (input and output hashes).
 *
 * @example
 * jsonHash({ task: 'x' }); // 'sha256:…'
 */
export function jsonHash(value: unknown): string {
  return textHash(canonicalJson(value ?? null));
}

/**
 * `sha256:<hex>` of UTF-8 text (the code hash).
 *
 * @example
 * textHash('return 1;'); // 'sha256:…'
 */
export function textHash(text: string): string {
  return 'sha256:' + createHash('sha256').update(text, 'utf8').digest('hex');
}
