import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { merkle } from '../index.js';

// Naive implementation straight from the RFC 9162 definitions (sections 2.1.1, 2.1.3.1, 2.1.4.1),
// recursive over arrays: the reference the optimised code is checked against.
function mth(leaves: Uint8Array[]): Uint8Array {
  if (leaves.length === 0) return merkle.emptyRoot();
  if (leaves.length === 1) return leaves[0] as Uint8Array;
  const k = merkle.largestPowerOfTwoBelow(leaves.length);
  return merkle.hashChildren(mth(leaves.slice(0, k)), mth(leaves.slice(k)));
}

function path(m: number, leaves: Uint8Array[]): Uint8Array[] {
  if (leaves.length <= 1) return [];
  const k = merkle.largestPowerOfTwoBelow(leaves.length);
  return m < k
    ? [...path(m, leaves.slice(0, k)), mth(leaves.slice(k))]
    : [...path(m - k, leaves.slice(k)), mth(leaves.slice(0, k))];
}

function subproof(m: number, leaves: Uint8Array[], complete: boolean): Uint8Array[] {
  if (m === leaves.length) return complete ? [] : [mth(leaves)];
  const k = merkle.largestPowerOfTwoBelow(leaves.length);
  return m <= k
    ? [...subproof(m, leaves.slice(0, k), complete), mth(leaves.slice(k))]
    : [...subproof(m - k, leaves.slice(k), false), mth(leaves.slice(0, k))];
}

const leafSet = (max: number) =>
  fc.integer({ min: 1, max }).map((n) => Array.from({ length: n }, (_, i) => merkle.hashLeaf(new Uint8Array([i & 255, i >> 8, 7]))));

function treeOf(leaves: Uint8Array[]): merkle.MemoryMerkleTree {
  const tree = new merkle.MemoryMerkleTree();
  leaves.forEach((leaf) => tree.append(leaf));
  return tree;
}

const hex = (hashes: Uint8Array[]) => hashes.map(merkle.toHex);

describe('Merkle tree against the naive RFC 9162 recursion (random trees up to 2,000 leaves)', () => {
  it('roots, inclusion proofs and their verification agree', () => {
    fc.assert(
      fc.property(leafSet(2000), fc.nat(), fc.nat(), (leaves, a, b) => {
        const tree = treeOf(leaves);
        const size = 1 + (a % leaves.length);
        const index = b % size;
        const root = mth(leaves.slice(0, size));
        expect(merkle.toHex(merkle.rootHash(tree, size))).toBe(merkle.toHex(root));
        const proof = merkle.inclusionProof(index, size, tree);
        expect(hex(proof)).toEqual(hex(path(index, leaves.slice(0, size))));
        expect(merkle.verifyInclusion(leaves[index] as Uint8Array, index, size, proof, root)).toBe(true);
        if (size > 1) {
          expect(merkle.verifyInclusion(leaves[index] as Uint8Array, (index + 1) % size, size, proof, root)).toBe(false);
        }
      }),
      { numRuns: 60 },
    );
  });

  it('consistency proofs match and verify; a proof for the wrong sizes does not', () => {
    fc.assert(
      fc.property(leafSet(2000), fc.nat(), fc.nat(), (leaves, a, b) => {
        const tree = treeOf(leaves);
        const size2 = 1 + (a % leaves.length);
        const size1 = 1 + (b % size2);
        const proof = merkle.consistencyProof(size1, size2, tree);
        const expected = size1 === size2 ? [] : subproof(size1, leaves.slice(0, size2), true);
        expect(hex(proof)).toEqual(hex(expected));
        const root1 = mth(leaves.slice(0, size1));
        const root2 = mth(leaves.slice(0, size2));
        expect(merkle.verifyConsistency(size1, size2, root1, root2, proof)).toBe(true);
        if (size1 < size2 && size1 > 1) {
          expect(merkle.verifyConsistency(size1 - 1, size2, root1, root2, proof)).toBe(false);
        }
      }),
      { numRuns: 60 },
    );
  });

  it('the frontier restored from stored nodes continues to the same roots', () => {
    fc.assert(
      fc.property(leafSet(300), fc.nat(), (leaves, cut) => {
        const split = cut % (leaves.length + 1);
        const tree = treeOf(leaves.slice(0, split));
        const frontier = merkle.MerkleFrontier.restore(split, tree);
        leaves.slice(split).forEach((leaf) => frontier.append(leaf));
        expect(merkle.toHex(frontier.root())).toBe(merkle.toHex(mth(leaves)));
      }),
      { numRuns: 60 },
    );
  });
});
