// The `merkle` namespace of @tollgate/core: RFC 9162 trees, proofs and their verification.
export { HASH_SIZE, emptyRoot, hashChildren, hashLeaf, hashLeafText } from './merkle-hash.js';
export {
  consistencyProofRanges,
  inclusionProofRanges,
  largestPowerOfTwoBelow,
  nodesForRanges,
  rangeNodes,
} from './merkle-ranges.js';
export type { LeafRange, NodeId } from './merkle-ranges.js';
export {
  consistencyProof,
  inclusionProof,
  nodeKey,
  rangeHash,
  readerFromMap,
  rootHash,
} from './merkle-tree.js';
export type { MerkleNodeReader, MerkleSource } from './merkle-tree.js';
export { MemoryMerkleTree, MerkleFrontier } from './merkle-frontier.js';
export type { MerkleNode } from './merkle-frontier.js';
export { verifyConsistency, verifyInclusion } from './merkle-verify.js';
export { bytesEqual, fromBase64, fromHex, toBase64, toHex } from './encoding.js';
