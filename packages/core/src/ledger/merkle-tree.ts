// Proof generation and root computation over any store of perfect-subtree hashes.
import { emptyRoot, hashChildren } from './merkle-hash.js';
import type { LeafRange, NodeId } from './merkle-ranges.js';
import { consistencyProofRanges, inclusionProofRanges, rangeNodes } from './merkle-ranges.js';

/**
 * Where proof generation reads perfect-subtree hashes from. `node(level, index)` returns the hash of
 * leaves [index·2^level, (index+1)·2^level); level 0 is the leaf hash. A server backs it with a table
 * of stored nodes (see `MerkleNodeLog`); tests back it with a plain array of leaf hashes.
 */
export interface MerkleNodeReader {
  node(level: number, index: number): Uint8Array;
}

/** Leaf hashes in order, or a reader of stored subtree hashes. */
export type MerkleSource = readonly Uint8Array[] | MerkleNodeReader;

/**
 * MTH of a leaf range from stored perfect subtrees: O(log n) lookups.
 * @example rangeHash({ start: 4, end: 7 }, reader)
 */
export function rangeHash(range: LeafRange, source: MerkleSource): Uint8Array {
  const reader = toReader(source);
  const hashes = rangeNodes(range).map((node) => reader.node(node.level, node.index));
  let hash = hashes.pop();
  if (hash === undefined) return emptyRoot();
  for (let i = hashes.length - 1; i >= 0; i--) hash = hashChildren(hashes[i] as Uint8Array, hash);
  return hash;
}

/**
 * Root hash of the first `size` leaves (RFC 9162 MTH). With an array and no size, of all of them.
 * @example rootHash(leafHashes)
 * @example rootHash(reader, 1_000_000)
 */
export function rootHash(source: MerkleSource, size?: number): Uint8Array {
  const treeSize = size ?? (Array.isArray(source) ? source.length : undefined);
  if (treeSize === undefined) throw new RangeError('rootHash over a node reader needs a size');
  return rangeHash({ start: 0, end: treeSize }, source);
}

/**
 * Inclusion proof (audit path) for leaf `index` in the tree of the first `size` leaves.
 * @example inclusionProof(6, 8, leafHashes) // 3 hashes
 */
export function inclusionProof(index: number, size: number, source: MerkleSource): Uint8Array[] {
  return inclusionProofRanges(index, size).map((range) => rangeHash(range, source));
}

/**
 * Consistency proof between the trees of the first `size1` and `size2` leaves. Empty for size1 = 0
 * and size1 = size2.
 * @example consistencyProof(6, 8, leafHashes) // 3 hashes
 */
export function consistencyProof(size1: number, size2: number, source: MerkleSource): Uint8Array[] {
  return consistencyProofRanges(size1, size2).map((range) => rangeHash(range, source));
}

/** Perfect-subtree hash from a flat array of leaf hashes (O(2^level); for tests and small trees). */
function perfectFromLeaves(leaves: readonly Uint8Array[], level: number, index: number): Uint8Array {
  if (level === 0) {
    const leaf = leaves[index];
    if (leaf === undefined) throw new RangeError(`no leaf ${index}`);
    return leaf;
  }
  return hashChildren(
    perfectFromLeaves(leaves, level - 1, index * 2),
    perfectFromLeaves(leaves, level - 1, index * 2 + 1),
  );
}

function toReader(source: MerkleSource): MerkleNodeReader {
  if (!Array.isArray(source)) return source as MerkleNodeReader;
  const leaves = source as readonly Uint8Array[];
  return { node: (level, index) => perfectFromLeaves(leaves, level, index) };
}

/** A reader over hashes fetched in one batch, keyed `level:index`. Throws on a missing node. */
export function readerFromMap(nodes: ReadonlyMap<string, Uint8Array>): MerkleNodeReader {
  return {
    node(level, index) {
      const hash = nodes.get(nodeKey({ level, index }));
      if (hash === undefined) throw new RangeError(`stored tree lacks node ${level}:${index}`);
      return hash;
    },
  };
}

/** Map key for a node id. */
export function nodeKey(node: NodeId): string {
  return `${node.level}:${node.index}`;
}
