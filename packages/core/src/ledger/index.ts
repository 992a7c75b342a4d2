// The ledger's pure half: canonical JSON, Merkle math, signed notes and checkpoints, offline bundle
// verification. No I/O; the server and CLI supply storage and files.
export * as merkle from './merkle.js';
export { canonicalJson } from './canonical-json.js';
export type { CanonicalJsonValue } from './canonical-json.js';
