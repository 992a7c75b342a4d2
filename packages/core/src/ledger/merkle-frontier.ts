// Incremental appends. The frontier is the list of perfect subtrees covering [0, size), largest first
// (a "compact range"): appending a leaf merges equal-sized neighbours, and every merge is a new
// perfect subtree a store should keep so that proofs never need a rebuild.
import { emptyRoot, hashChildren } from './merkle-hash.js';
import { rangeNodes } from './merkle-ranges.js';
import type { MerkleNodeReader } from './merkle-tree.js';

/** A perfect subtree with its hash. */
export interface MerkleNode {
  readonly level: number;
  readonly index: number;
  readonly hash: Uint8Array;
}

/**
 * Append-only Merkle frontier: O(log n) memory, O(1) amortised hashing per append.
 * @example
 * const frontier = new MerkleFrontier();
 * const created = frontier.append(hashLeaf(data)); // nodes at level ≥ 1 to store
 * frontier.root();
 */
export class MerkleFrontier {
  #size: number;
  readonly #nodes: MerkleNode[];

  constructor(size = 0, nodes: readonly MerkleNode[] = []) {
    this.#size = size;
    this.#nodes = [...nodes];
  }

  /**
   * Rebuild the frontier of a stored tree of `size` leaves with O(log n) lookups.
   * @example MerkleFrontier.restore(size, storeReader)
   */
  static restore(size: number, reader: MerkleNodeReader): MerkleFrontier {
    const ids = rangeNodes({ start: 0, end: size });
    return new MerkleFrontier(
      size,
      ids.map((id) => ({ ...id, hash: reader.node(id.level, id.index) })),
    );
  }

  /** Number of leaves appended so far. */
  get size(): number {
    return this.#size;
  }

  /** The frontier's perfect subtrees, largest first. */
  get nodes(): readonly MerkleNode[] {
    return this.#nodes;
  }

  /**
   * Append one leaf hash; returns the interior nodes (level ≥ 1) this completed.
   * @example frontier.append(leafHash).length // 0 for an even index
   */
  append(leafHash: Uint8Array): MerkleNode[] {
    const created: MerkleNode[] = [];
    let node: MerkleNode = { level: 0, index: this.#size, hash: leafHash };
    for (;;) {
      const left = this.#nodes[this.#nodes.length - 1];
      if (left === undefined || left.level !== node.level) break;
      this.#nodes.pop();
      node = { level: node.level + 1, index: left.index / 2, hash: hashChildren(left.hash, node.hash) };
      created.push(node);
    }
    this.#nodes.push(node);
    this.#size += 1;
    return created;
  }

  /**
   * Root hash of the current tree.
   * @example frontier.root()
   */
  root(): Uint8Array {
    let hash: Uint8Array | undefined;
    for (let i = this.#nodes.length - 1; i >= 0; i--) {
      const node = this.#nodes[i] as MerkleNode;
      hash = hash === undefined ? node.hash : hashChildren(node.hash, hash);
    }
    return hash ?? emptyRoot();
  }
}

/**
 * A whole tree kept in memory, every perfect subtree stored: proofs in O(log n). Used by the offline
 * verifier and tests.
 * @example
 * const tree = new MemoryMerkleTree();
 * leafHashes.forEach((h) => tree.append(h));
 * inclusionProof(3, tree.size, tree);
 */
export class MemoryMerkleTree implements MerkleNodeReader {
  readonly #levels: Uint8Array[][] = [[]];
  readonly #frontier = new MerkleFrontier();

  /** Number of leaves. */
  get size(): number {
    return this.#frontier.size;
  }

  /** Append one leaf hash. */
  append(leafHash: Uint8Array): void {
    const index = this.#frontier.size;
    (this.#levels[0] as Uint8Array[])[index] = leafHash;
    for (const node of this.#frontier.append(leafHash)) {
      const level = (this.#levels[node.level] ??= []);
      level[node.index] = node.hash;
    }
  }

  /** Hash of a stored perfect subtree. */
  node(level: number, index: number): Uint8Array {
    const hash = this.#levels[level]?.[index];
    if (hash === undefined) throw new RangeError(`tree has no node ${level}:${index}`);
    return hash;
  }

  /** Root of the current tree. */
  root(): Uint8Array {
    return this.#frontier.root();
  }
}
