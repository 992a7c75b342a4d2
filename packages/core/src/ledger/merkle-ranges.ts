// Proof generation as *plans*. Every hash in an RFC 9162 proof is the hash of a leaf range
// [start, end) that decomposes into at most log2(n) perfect (power-of-two, aligned) subtrees.
// A store that keeps each perfect subtree's hash can therefore answer any proof with O(log n) point
// lookups, fetched in one batch (sync for SQLite, async for PostgreSQL), and no rebuild.

/** A perfect subtree: leaves [index·2^level, (index+1)·2^level). Level 0 is a leaf hash. */
export interface NodeId {
  readonly level: number;
  readonly index: number;
}

/** Half-open range of leaf indexes whose Merkle tree hash (MTH) is one proof element. */
export interface LeafRange {
  readonly start: number;
  readonly end: number;
}

/** Largest power of two strictly less than n (n ≥ 2), as RFC 9162 splits trees. */
export function largestPowerOfTwoBelow(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/**
 * The perfect subtrees, left to right and of decreasing size, whose hashes fold (from the right) into
 * MTH(D[start:end]). Valid for the ranges RFC 9162 proofs and roots use (start aligned to the range's
 * top power of two).
 * @example rangeNodes({ start: 0, end: 7 }) // [{level:2,index:0},{level:1,index:2},{level:0,index:6}]
 */
export function rangeNodes(range: LeafRange): NodeId[] {
  const nodes: NodeId[] = [];
  let start = range.start;
  while (start < range.end) {
    let size = 1;
    let level = 0;
    while (size * 2 <= range.end - start && start % (size * 2) === 0) {
      size *= 2;
      level += 1;
    }
    nodes.push({ level, index: start / size });
    start += size;
  }
  return nodes;
}

/**
 * Leaf ranges of the inclusion proof for leaf `index` in a tree of `size` (RFC 9162 section 2.1.3.1),
 * in proof order (nearest the leaf first).
 * @example inclusionProofRanges(2, 5) // [{start:3,end:4}, {start:0,end:2}, {start:4,end:5}]
 */
export function inclusionProofRanges(index: number, size: number): LeafRange[] {
  assertIndex(index, size);
  const ranges: LeafRange[] = [];
  let start = 0;
  let end = size;
  while (end - start > 1) {
    const k = largestPowerOfTwoBelow(end - start);
    if (index < start + k) {
      ranges.push({ start: start + k, end });
      end = start + k;
    } else {
      ranges.push({ start, end: start + k });
      start += k;
    }
  }
  return ranges.reverse();
}

/**
 * Leaf ranges of the consistency proof from `size1` to `size2` (RFC 9162 section 2.1.4.1), in proof
 * order. Empty when size1 is 0 or equals size2 (see docs/ledger.md for what size 0 means).
 * @example consistencyProofRanges(6, 8).length // 3
 */
export function consistencyProofRanges(size1: number, size2: number): LeafRange[] {
  assertSizes(size1, size2);
  if (size1 === 0 || size1 === size2) return [];
  const siblings: LeafRange[] = [];
  let start = 0;
  let end = size2;
  let wholeTree = true;
  while (size1 !== end) {
    const k = largestPowerOfTwoBelow(end - start);
    if (size1 <= start + k) {
      siblings.push({ start: start + k, end });
      end = start + k;
    } else {
      siblings.push({ start, end: start + k });
      start += k;
      wholeTree = false;
    }
  }
  siblings.reverse();
  return wholeTree ? siblings : [{ start, end }, ...siblings];
}

/** Every perfect subtree a list of ranges needs, deduplicated, for one batched lookup. */
export function nodesForRanges(ranges: readonly LeafRange[]): NodeId[] {
  const seen = new Map<string, NodeId>();
  for (const range of ranges) {
    for (const node of rangeNodes(range)) seen.set(`${node.level}:${node.index}`, node);
  }
  return [...seen.values()];
}

function assertIndex(index: number, size: number): void {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(size) || index < 0 || index >= size) {
    throw new RangeError(`leaf index ${index} is outside a tree of size ${size}`);
  }
}

function assertSizes(size1: number, size2: number): void {
  if (!Number.isSafeInteger(size1) || !Number.isSafeInteger(size2) || size1 < 0 || size1 > size2) {
    throw new RangeError(`no consistency proof from size ${size1} to size ${size2}`);
  }
}
