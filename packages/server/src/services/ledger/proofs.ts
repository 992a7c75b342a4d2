import { TollgateError, frontierHashes, merkle } from '@tollgate/core';
import type { LedgerNative } from '../../store/repositories/ledger-native.js';

/** An inclusion proof with what a client needs to check it. */
export interface InclusionProofView {
  readonly index: number;
  readonly size: number;
  readonly leafHash: string;
  readonly rootHash: string;
  readonly proof: string[];
}

/** A consistency proof with both roots. */
export interface ConsistencyProofView {
  readonly from: number;
  readonly to: number;
  readonly fromRootHash: string;
  readonly toRootHash: string;
  readonly proof: string[];
}

function rangeError(message: string): TollgateError {
  return new TollgateError('LEDGER_RANGE_INVALID', message);
}

/** Code of the error thrown when stored rows a proof needs are missing (records deleted from the database). */
export const LOG_INCOMPLETE_CODE = 'CONFLICT';

// A record or subtree hash missing below the log's size means rows were deleted from the database: say so with a
// code (a 409 the caller can act on) instead of letting the reader's RangeError become a 500.
function fromStore<T>(what: string, build: () => T): T {
  try {
    return build();
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
    throw new TollgateError(LOG_INCOMPLETE_CODE, `the stored log cannot produce ${what}: ${error.message} (rows are missing from the database)`, { cause: error });
  }
}

/**
 * Inclusion proof from stored subtrees: one batched lookup of O(log n) nodes, no rebuild.
 * @example await inclusionProofFromStore(native, 'acme', 5, 1000)
 */
export async function inclusionProofFromStore(native: LedgerNative, tenantId: string, index: number, size: number): Promise<InclusionProofView> {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(size) || index < 0 || index >= size) {
    throw rangeError(`record ${index} is not in a log of size ${size}`);
  }
  const ranges = merkle.inclusionProofRanges(index, size);
  const ids = merkle.nodesForRanges([...ranges, { start: 0, end: size }, { start: index, end: index + 1 }]);
  const reader = merkle.readerFromMap(await native.readNodes(tenantId, ids));
  return fromStore(`an inclusion proof of record ${index} in size ${size}`, () => ({
    index,
    size,
    leafHash: merkle.toHex(reader.node(0, index)),
    rootHash: merkle.toHex(merkle.rootHash(reader, size)),
    proof: ranges.map((range) => merkle.toHex(merkle.rangeHash(range, reader))),
  }));
}

/**
 * Consistency proof between two sizes of a stored log.
 * @example await consistencyProofFromStore(native, 'acme', 10, 20)
 */
export async function consistencyProofFromStore(native: LedgerNative, tenantId: string, from: number, to: number): Promise<ConsistencyProofView> {
  if (!Number.isSafeInteger(from) || !Number.isSafeInteger(to) || from < 0 || from > to) {
    throw rangeError(`no consistency proof from size ${from} to size ${to}`);
  }
  const ranges = merkle.consistencyProofRanges(from, to);
  const ids = merkle.nodesForRanges([...ranges, { start: 0, end: from }, { start: 0, end: to }]);
  const reader = merkle.readerFromMap(await native.readNodes(tenantId, ids));
  return fromStore(`a consistency proof from size ${from} to ${to}`, () => ({
    from,
    to,
    fromRootHash: merkle.toHex(merkle.rootHash(reader, from)),
    toRootHash: merkle.toHex(merkle.rootHash(reader, to)),
    proof: ranges.map((range) => merkle.toHex(merkle.rangeHash(range, reader))),
  }));
}

/**
 * The frontier of the first `size` records (hex hashes of the perfect subtrees covering them, largest first), as a
 * streaming bundle's header carries it.
 * @example await frontierFromStore(native, 'acme', 1000) // 6 hashes
 */
export async function frontierFromStore(native: LedgerNative, tenantId: string, size: number): Promise<string[]> {
  const reader = merkle.readerFromMap(await native.readNodes(tenantId, merkle.rangeNodes({ start: 0, end: size })));
  return fromStore(`the frontier of size ${size}`, () => frontierHashes(size, reader));
}
