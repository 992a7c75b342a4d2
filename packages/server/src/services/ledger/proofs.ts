import { TollgateError, merkle } from '@tollgate/core';
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
  return {
    index,
    size,
    leafHash: merkle.toHex(reader.node(0, index)),
    rootHash: merkle.toHex(merkle.rootHash(reader, size)),
    proof: ranges.map((range) => merkle.toHex(merkle.rangeHash(range, reader))),
  };
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
  return {
    from,
    to,
    fromRootHash: merkle.toHex(merkle.rootHash(reader, from)),
    toRootHash: merkle.toHex(merkle.rootHash(reader, to)),
    proof: ranges.map((range) => merkle.toHex(merkle.rangeHash(range, reader))),
  };
}
