// Proof verification exactly as RFC 9162 sections 2.1.3.2 and 2.1.4.2 describe. Sizes can exceed
// 2^32, so the bit operations are done with arithmetic on safe integers, not JS's 32-bit operators.
import { bytesEqual } from './encoding.js';
import { HASH_SIZE, emptyRoot, hashChildren } from './merkle-hash.js';

const isOdd = (n: number): boolean => n % 2 === 1;
const half = (n: number): number => Math.floor(n / 2);

function wellFormed(hashes: readonly Uint8Array[]): boolean {
  return hashes.every((hash) => hash instanceof Uint8Array && hash.length === HASH_SIZE);
}

function isPowerOfTwo(n: number): boolean {
  let k = 1;
  while (k < n) k *= 2;
  return k === n;
}

/**
 * Does `proof` show that `leafHash` is leaf `index` of the tree of `size` leaves with root `root`?
 * @example verifyInclusion(hashLeaf(data), 6, 8, proof, root) // true
 */
export function verifyInclusion(
  leafHash: Uint8Array,
  index: number,
  size: number,
  proof: readonly Uint8Array[],
  root: Uint8Array,
): boolean {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(size) || index < 0 || index >= size) {
    return false;
  }
  if (!wellFormed([leafHash, root, ...proof])) return false;
  let fn = index;
  let sn = size - 1;
  let hash = leafHash;
  for (const sibling of proof) {
    if (sn === 0) return false;
    if (isOdd(fn) || fn === sn) {
      hash = hashChildren(sibling, hash);
      while (!isOdd(fn) && fn !== 0) {
        fn = half(fn);
        sn = half(sn);
      }
    } else {
      hash = hashChildren(hash, sibling);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return sn === 0 && bytesEqual(hash, root);
}

/**
 * Does `proof` show that the tree of `size1` leaves with `root1` is a prefix of the tree of `size2`
 * leaves with `root2`? Size 0: true only with an empty proof and `root1` equal to the empty-tree hash
 * (SHA-256 of nothing); the empty log is a prefix of every log. Equal sizes: empty proof, equal roots.
 * @example verifyConsistency(6, 8, root6, root8, proof) // true
 */
export function verifyConsistency(
  size1: number,
  size2: number,
  root1: Uint8Array,
  root2: Uint8Array,
  proof: readonly Uint8Array[],
): boolean {
  if (!Number.isSafeInteger(size1) || !Number.isSafeInteger(size2) || size1 < 0 || size1 > size2) {
    return false;
  }
  if (!wellFormed([root1, root2, ...proof])) return false;
  if (size1 === 0) return proof.length === 0 && bytesEqual(root1, emptyRoot());
  if (size1 === size2) return proof.length === 0 && bytesEqual(root1, root2);
  if (proof.length === 0) return false;
  const path = isPowerOfTwo(size1) ? [root1, ...proof] : [...proof];
  return walkConsistency(size1, size2, root1, root2, path);
}

function walkConsistency(
  size1: number,
  size2: number,
  root1: Uint8Array,
  root2: Uint8Array,
  path: readonly Uint8Array[],
): boolean {
  let fn = size1 - 1;
  let sn = size2 - 1;
  while (isOdd(fn)) {
    fn = half(fn);
    sn = half(sn);
  }
  let firstHash = path[0] as Uint8Array;
  let secondHash = firstHash;
  for (const element of path.slice(1)) {
    if (sn === 0) return false;
    if (isOdd(fn) || fn === sn) {
      firstHash = hashChildren(element, firstHash);
      secondHash = hashChildren(element, secondHash);
      while (!isOdd(fn) && fn !== 0) {
        fn = half(fn);
        sn = half(sn);
      }
    } else {
      secondHash = hashChildren(secondHash, element);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return bytesEqual(firstHash, root1) && bytesEqual(secondHash, root2) && sn === 0;
}
