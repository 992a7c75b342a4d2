// The ledger's pure half: canonical JSON, Merkle math, signed notes and checkpoints, offline bundle
// verification. No I/O; the server and CLI supply storage and files.
export * as merkle from './merkle.js';
export { canonicalJson, canonicalJsonString } from './canonical-json.js';
export type { CanonicalJsonValue } from './canonical-json.js';
export {
  ED25519_SIGNATURE_TYPE,
  MAX_NOTE_SIGNATURES,
  ed25519PublicKey,
  formatSignedNote,
  formatVerifierKey,
  isValidKeyName,
  noteKeyFromPrivate,
  noteKeyId,
  noteSignedBy,
  parseSignedNote,
  parseVerifierKey,
  rawEd25519PublicKey,
  signNote,
} from './signed-note.js';
export type { NoteKey, NoteSignature, SignedNote } from './signed-note.js';
export {
  COSIGNATURE_TYPE,
  EARLIEST_COSIGNATURE_TIME,
  MAX_COSIGNATURE_CLOCK_SKEW,
  cosignCheckpoint,
  cosignerKeyId,
  formatCheckpoint,
  openCheckpoint,
  parseCheckpoint,
  signCheckpoint,
  verifyCosignature,
} from './checkpoint.js';
export type { Checkpoint, VerifyCosignatureOptions } from './checkpoint.js';
export { canonicalRecordJson, recordLeaf, recordLeafHash, toLedgerRecord } from './record.js';
export type { LedgerEntry, LedgerRecord } from './record.js';
export { BUNDLE_FORMAT, verifyBundle, verifyBundleText } from './bundle.js';
export {
  BUNDLE_STREAM_FORMAT,
  BundleStreamVerifier,
  MAX_STREAM_PROBLEMS,
  bundleCheckpointLine,
  bundleChunks,
  bundleHeaderLine,
  bundleRecordLine,
  frontierHashes,
  verifyBundleLines,
} from './bundle-stream.js';
export type { BundleStreamHeader, BundleStreamVerification } from './bundle-stream.js';
export { findJsonAmbiguities } from './json-ambiguity.js';
export type { BundleProblem, BundleVerification, LedgerBundle, VerifyBundleOptions } from './bundle.js';
export { exportNoteKey, generateNoteKey, importNoteKey } from './note-keys.js';
export type { SigningNoteKey } from './note-keys.js';
