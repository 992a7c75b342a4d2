export { KeyService, API_KEY_CHANGED_CHANNEL } from './key-service.js';
export type { AuthContext, AuthFailure, AuthResult, CreateKeyInput, KeyServiceDeps, LedgerAppender } from './key-service.js';
export { MACHINE_SCOPES, SCOPES, hasScope, isMachineScope, isScope, type Scope } from './scopes.js';
export { API_KEY_PREFIX, generateApiKey, hashSecret, parseApiKey, secretMatches } from './key-material.js';
export { AGENT_RESTRICTABLE_SCOPES, MAX_KEY_AGENT_IDS, MAX_KEY_AGENT_ID_LENGTH, assertAgentAllowed, validateAgentRestriction } from './agent-restriction.js';
