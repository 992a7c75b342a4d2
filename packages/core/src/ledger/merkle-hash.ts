// RFC 9162 section 2.1.1 hashing: SHA-256, leaf prefix 0x00, interior-node prefix 0x01, so a leaf can
// never be passed off as an interior node (second-preimage defence).
import { createHash } from 'node:crypto';

/** Size in bytes of every hash in the tree. */
export const HASH_SIZE = 32;

/**
 * SHA-256 of nothing: the root hash of the empty tree (RFC 9162 section 2.1.1).
 * @example toHex(emptyRoot()) // 'e3b0c442…b855'
 */
export function emptyRoot(): Uint8Array {
  return new Uint8Array(createHash('sha256').digest());
}

/**
 * Hash of one leaf: SHA-256(0x00 || data).
 * @example hashLeaf(utf8Bytes(canonicalJson(record)))
 */
export function hashLeaf(data: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(LEAF_PREFIX).update(data).digest());
}

/**
 * Hash of an interior node: SHA-256(0x01 || left || right).
 * @example hashChildren(leftHash, rightHash)
 */
export function hashChildren(left: Uint8Array, right: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(NODE_PREFIX).update(left).update(right).digest());
}

const LEAF_PREFIX = new Uint8Array([0x00]);
const NODE_PREFIX = new Uint8Array([0x01]);
