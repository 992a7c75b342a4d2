import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { merkle } from '../index.js';

const { fromHex, toHex, hashLeaf } = merkle;

interface Vectors {
  leafInputs: string[];
  rootsBySize: string[];
  inclusionProofs: { leaf: number; size: number; proof: string[] }[];
  consistencyProofs: { size1: number; size2: number; proof: string[] }[];
}

const vectors = JSON.parse(
  readFileSync(new URL('../../test/fixtures/ledger/transparency-dev-vectors.json', import.meta.url), 'utf8'),
) as Vectors;
const leafHashes = vectors.leafInputs.map((input) => hashLeaf(fromHex(input)));
const tree = new merkle.MemoryMerkleTree();
leafHashes.forEach((hash) => tree.append(hash));
const rootAt = (size: number): Uint8Array => fromHex(vectors.rootsBySize[size] as string);
const someHash = fromHex('abacaba000000000000000000000000000000000000000000060061e00123456');
const flipBit = (proof: Uint8Array[], at: number, mask: number): Uint8Array[] =>
  proof.map((hash, i) => (i === at ? hash.map((byte, j) => (j === 0 ? byte ^ mask : byte)) : hash));

describe('transparency-dev/merkle 8-leaf vectors', () => {
  it.each(vectors.rootsBySize.map((root, size) => ({ size, root })))(
    'root of the first $size leaves is $root',
    ({ size, root }) => {
      expect(toHex(merkle.rootHash(leafHashes.slice(0, size)))).toBe(root);
      expect(toHex(merkle.rootHash(tree, size))).toBe(root);
    },
  );

  it('the frontier gives every published root as leaves are appended', () => {
    const frontier = new merkle.MerkleFrontier();
    const roots = [toHex(frontier.root())];
    for (const hash of leafHashes) {
      frontier.append(hash);
      roots.push(toHex(frontier.root()));
    }
    expect(roots).toEqual(vectors.rootsBySize);
  });

  it.each(vectors.inclusionProofs)('inclusion proof leaf $leaf of $size', ({ leaf, size, proof }) => {
    const generated = merkle.inclusionProof(leaf - 1, size, leafHashes).map(toHex);
    expect(generated).toEqual(proof);
    expect(merkle.inclusionProof(leaf - 1, size, tree).map(toHex)).toEqual(proof);
    const ok = merkle.verifyInclusion(leafHashes[leaf - 1] as Uint8Array, leaf - 1, size, proof.map(fromHex), rootAt(size));
    expect(ok).toBe(true);
  });

  it.each(vectors.consistencyProofs)('consistency proof $size1 → $size2', ({ size1, size2, proof }) => {
    expect(merkle.consistencyProof(size1, size2, leafHashes).map(toHex)).toEqual(proof);
    expect(merkle.consistencyProof(size1, size2, tree).map(toHex)).toEqual(proof);
    expect(merkle.verifyConsistency(size1, size2, rootAt(size1), rootAt(size2), proof.map(fromHex))).toBe(true);
  });
});

function inclusionCorruptions(index: number, size: number, proof: Uint8Array[], leaf: Uint8Array, root: Uint8Array) {
  const cases: [string, Parameters<typeof merkle.verifyInclusion>][] = [
    ['index - 1', [leaf, index - 1, size, proof, root]],
    ['index + 1', [leaf, index + 1, size, proof, root]],
    ['index ^ 2', [leaf, index ^ 2, size, proof, root]],
    ['size doubled', [leaf, index, size * 2, proof, root]],
    ['size halved', [leaf, index, Math.floor(size / 2), proof, root]],
    ['wrong leaf', [hashLeaf(new TextEncoder().encode('WrongLeaf')), index, size, proof, root]],
    ['empty-tree root', [leaf, index, size, proof, merkle.emptyRoot()]],
    ['random root', [leaf, index, size, proof, someHash]],
    ['trailing garbage', [leaf, index, size, [...proof, new Uint8Array()], root]],
    ['trailing root', [leaf, index, size, [...proof, root], root]],
    ['preceding garbage', [leaf, index, size, [new Uint8Array(), ...proof], root]],
    ['preceding root', [leaf, index, size, [root, ...proof], root]],
    ['duplicated element', [leaf, index, size, [...proof, ...proof.slice(-1)], root]],
  ];
  proof.forEach((_, i) => cases.push([`bit flipped in proof[${i}]`, [leaf, index, size, flipBit(proof, i, 8), root]]));
  if (proof.length > 0) cases.push(['element removed', [leaf, index, size, proof.slice(0, -1), root]]);
  if (proof.length > 1) {
    cases.push(['element inserted', [leaf, index, size, [proof[0] as Uint8Array, someHash, ...proof.slice(1)], root]]);
  }
  return cases;
}

describe('inclusion proof corruption matrix', () => {
  for (const { leaf, size, proof: hexProof } of vectors.inclusionProofs.filter((v) => v.size > 1)) {
    const index = leaf - 1;
    const proof = hexProof.map(fromHex);
    it.each(inclusionCorruptions(index, size, proof, leafHashes[index] as Uint8Array, rootAt(size)))(
      `leaf ${index} of ${size}: %s is rejected`,
      (_name, args) => {
        expect(merkle.verifyInclusion(...args)).toBe(false);
      },
    );
  }

  it('rejects a one-leaf tree with a wrong or empty hash', () => {
    const hash = hashLeaf(new TextEncoder().encode('data'));
    expect(merkle.verifyInclusion(hash, 0, 1, [], hash)).toBe(true);
    expect(merkle.verifyInclusion(hash, 0, 1, [], new Uint8Array())).toBe(false);
    expect(merkle.verifyInclusion(new Uint8Array(), 0, 1, [], hash)).toBe(false);
  });

  it.each([[0, 0], [1, 0], [2, 1]])('index %i in a tree of size %i never verifies', (index, size) => {
    expect(merkle.verifyInclusion(someHash, index, size, [], merkle.emptyRoot())).toBe(false);
  });
});

function consistencyCorruptions(size1: number, size2: number, root1: Uint8Array, root2: Uint8Array, proof: Uint8Array[]) {
  const wrong = new Uint8Array(32).fill(7);
  const cases: [string, Parameters<typeof merkle.verifyConsistency>][] = [
    ['size1 - 1', [size1 - 1, size2, root1, root2, proof]],
    ['size1 + 1', [size1 + 1, size2, root1, root2, proof]],
    ['size1 ^ 2', [size1 ^ 2, size2, root1, root2, proof]],
    ['size2 doubled', [size1, size2 * 2, root1, root2, proof]],
    ['size2 halved', [size1, Math.floor(size2 / 2), root1, root2, proof]],
    ['wrong root1', [size1, size2, wrong, root2, proof]],
    ['wrong root2', [size1, size2, root1, wrong, proof]],
    ['swapped roots', [size1, size2, root2, root1, proof]],
    ['empty proof', [size1, size2, root1, root2, []]],
    ['trailing garbage', [size1, size2, root1, root2, [...proof, new Uint8Array()]]],
    ['trailing root1', [size1, size2, root1, root2, [...proof, root1]]],
    ['trailing root2', [size1, size2, root1, root2, [...proof, root2]]],
    ['preceding garbage', [size1, size2, root1, root2, [new Uint8Array(), ...proof]]],
    ['preceding root1', [size1, size2, root1, root2, [root1, ...proof]]],
    ['preceding root2', [size1, size2, root1, root2, [root2, ...proof]]],
    ['duplicated first element', [size1, size2, root1, root2, [proof[0] as Uint8Array, ...proof]]],
    ['element removed', [size1, size2, root1, root2, proof.slice(0, -1)]],
    ['element inserted', [size1, size2, root1, root2, [proof[0] as Uint8Array, someHash, ...proof.slice(1)]]],
  ];
  proof.forEach((_, i) => cases.push([`bit flipped in proof[${i}]`, [size1, size2, root1, root2, flipBit(proof, i, 16)]]));
  return cases;
}

describe('consistency proof corruption matrix', () => {
  for (const { size1, size2, proof: hexProof } of vectors.consistencyProofs.filter((v) => v.proof.length > 0)) {
    it.each(consistencyCorruptions(size1, size2, rootAt(size1), rootAt(size2), hexProof.map(fromHex)))(
      `${size1} → ${size2}: %s is rejected`,
      (_name, args) => {
        expect(merkle.verifyConsistency(...args)).toBe(false);
      },
    );
  }

  it('never verifies a tree going back in time', () => {
    expect(merkle.verifyConsistency(2, 1, rootAt(2), rootAt(1), [])).toBe(false);
    expect(merkle.verifyConsistency(1, 0, rootAt(1), rootAt(0), [])).toBe(false);
  });

  it('equal sizes need equal roots and an empty proof', () => {
    expect(merkle.verifyConsistency(3, 3, rootAt(3), rootAt(3), [])).toBe(true);
    expect(merkle.verifyConsistency(3, 3, rootAt(3), rootAt(4), [])).toBe(false);
    expect(merkle.verifyConsistency(3, 3, rootAt(3), rootAt(3), [rootAt(3)])).toBe(false);
  });

  it('from size 0: only the empty-tree root, with an empty proof, is a prefix of any tree', () => {
    expect(merkle.consistencyProof(0, 8, leafHashes)).toEqual([]);
    expect(merkle.verifyConsistency(0, 8, merkle.emptyRoot(), rootAt(8), [])).toBe(true);
    expect(merkle.verifyConsistency(0, 0, merkle.emptyRoot(), merkle.emptyRoot(), [])).toBe(true);
    expect(merkle.verifyConsistency(0, 8, someHash, rootAt(8), [])).toBe(false);
    expect(merkle.verifyConsistency(0, 8, merkle.emptyRoot(), rootAt(8), [merkle.emptyRoot()])).toBe(false);
  });

  it('proof generation refuses impossible requests', () => {
    expect(() => merkle.consistencyProof(5, 3, leafHashes)).toThrow(RangeError);
    expect(() => merkle.inclusionProof(8, 8, leafHashes)).toThrow(RangeError);
    expect(() => merkle.inclusionProof(-1, 8, leafHashes)).toThrow(RangeError);
  });
});

describe('hex and base64 helpers', () => {
  it('round-trip and refuse malformed input', () => {
    expect(toHex(fromHex('00ff10'))).toBe('00ff10');
    expect(() => fromHex('0')).toThrow(TypeError);
    expect(() => fromHex('zz')).toThrow(TypeError);
    expect(merkle.toBase64(merkle.fromBase64('AQID'))).toBe('AQID');
    expect(() => merkle.fromBase64('AQI')).toThrow(TypeError);
  });
});

describe('hashLeafText', () => {
  it.each(['', 'a', '{"é":"€😀"}'])('equals hashLeaf of the UTF-8 bytes of %j', (text) => {
    expect(toHex(merkle.hashLeafText(text))).toBe(toHex(hashLeaf(new TextEncoder().encode(text))));
  });
});
