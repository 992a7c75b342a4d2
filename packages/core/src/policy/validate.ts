import { parseDuration } from './duration.js';
import type { SourceMap } from './source.js';
import { ENFORCEMENT_MODES, MAX_AGENT_SEQUENCE_WINDOW_MS, MAX_AGENT_VIOLATIONS, SEQUENCE_SCOPES, SEVERITIES } from './types.js';
import type {
  AgentPolicy, DataFlowSource, Decision, EnforcementMode, PolicyDiagnostic, PolicyDocument, PolicyRule, ProgressiveSettings,
  RateLimitScope, RuleAfter, RuleDataFlow, RuleMatch, RuleRateLimit, SequenceScope, Severity,
} from './types.js';

/** Defaults applied when a policy leaves a setting out. */
export const DEFAULT_PROGRESSIVE_BLOCK_AFTER = 2;
export const DEFAULT_DATA_FLOW_MIN_LENGTH = 4;
export const DEFAULT_RULE_SEVERITY: Severity = 'medium';
/**
 * Most rules with a `rateLimit`: 15,000 of them fit in 1 MB, and each call then wrote 15,000 counters
 * (per session: memory grew by megabytes per session until the process died).
 */
export const MAX_RATE_LIMIT_RULES = 200;
/** Most data-flow sources: each one walks and records a tool's output (1,000 took 42 s for one output). */
export const MAX_DATA_FLOW_SOURCES = 100;
/** Most `fields` over all sources: each is looked up through the whole output (10,000 took 4 s per output). */
export const MAX_DATA_FLOW_FIELDS = 200;

const DECISIONS: readonly Decision[] = ['ALLOW', 'STEP_UP', 'BLOCK'];
const RATE_SCOPES: readonly RateLimitScope[] = ['agent', 'session', 'user'];
const TOP_KEYS = ['apiVersion', 'name', 'description', 'agents', 'rules', 'dataFlow', 'progressive'];
const RULE_KEYS = ['id', 'description', 'match', 'when', 'after', 'dataFlow', 'rateLimit', 'effect', 'reason',
  'severity', 'mode', 'stage'];

type Raw = Record<string, unknown>;

const INVISIBLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u;
const NON_ASCII = /[^\x20-\x7e]/;

/** The name quoted with every character outside printable ASCII escaped, so a reader sees it. */
function visible(name: string): string {
  return `"${[...name].map((char) => (/[\x20-\x7e]/.test(char) ? char : `\\u{${(char.codePointAt(0) ?? 0).toString(16)}}`)).join('')}"`;
}

/** Collects diagnostics while reading the raw document. */
class Reader {
  readonly diagnostics: PolicyDiagnostic[] = [];
  constructor(private readonly sourceMap: SourceMap) {}

  error(path: string, code: string, message: string): void {
    const { line, column } = this.sourceMap.position(path);
    this.diagnostics.push({ severity: 'error', code, message, path, line, column });
  }

  object(value: unknown, path: string, allowedKeys?: readonly string[]): Raw | undefined {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      this.error(path, 'POLICY_TYPE', `${path || 'document'} must be a mapping`);
      return undefined;
    }
    for (const key of Object.keys(value)) {
      if (allowedKeys && !allowedKeys.includes(key)) {
        this.error(join(path, key), 'POLICY_UNKNOWN_KEY', `unknown key "${key}" (allowed: ${allowedKeys.join(', ')})`);
      }
    }
    return value as Raw;
  }

  string(value: unknown, path: string): string | undefined {
    if (typeof value === 'string' && value.length > 0) return value;
    this.error(path, 'POLICY_TYPE', `${path} must be a non-empty string`);
    return undefined;
  }

  warning(path: string, code: string, message: string): void {
    const { line, column } = this.sourceMap.position(path);
    this.diagnostics.push({ severity: 'warning', code, message, path, line, column });
  }

  names(value: unknown, path: string): string[] | undefined {
    const list = typeof value === 'string' ? [value] : value;
    if (!Array.isArray(list) || list.length === 0 || !list.every((item) => typeof item === 'string' && item !== '')) {
      this.error(path, 'POLICY_TYPE', `${path} must be a name or a non-empty list of names`);
      return undefined;
    }
    return list.every((item: string) => this.readableName(item, path)) ? list as string[] : undefined;
  }

  /**
   * A name that looks like another never matches it: `send_email` followed by a zero-width space, or with
   * a trailing space, reads as send_email in a review yet the rule applies to nothing. Such names are
   * errors; names with other non-ASCII letters (a Cyrillic і in send_emaіl) are warnings.
   */
  readableName(name: string, path: string): boolean {
    if (INVISIBLE.test(name) || name !== name.trim()) {
      this.error(path, 'POLICY_VALUE', `${path}: the name ${visible(name)} has invisible or control characters or surrounding spaces`);
      return false;
    }
    if (NON_ASCII.test(name)) this.warning(path, 'POLICY_NAME_WARNING', `${path}: the name ${visible(name)} has non-ASCII characters`);
    return true;
  }

  oneOf<T extends string>(value: unknown, path: string, allowed: readonly T[]): T | undefined {
    if (typeof value === 'string' && (allowed as readonly string[]).includes(value)) return value as T;
    this.error(path, 'POLICY_VALUE', `${path} must be one of ${allowed.join(', ')}`);
    return undefined;
  }

  positiveInteger(value: unknown, path: string): number | undefined {
    if (typeof value === 'number' && Number.isSafeInteger(value) && value > 0) return value;
    this.error(path, 'POLICY_VALUE', `${path} must be a positive integer`);
    return undefined;
  }

  duration(value: unknown, path: string): number | undefined {
    const ms = typeof value === 'string' ? parseDuration(value) : null;
    if (ms !== null) return ms;
    this.error(path, 'POLICY_VALUE', `${path} must be a duration such as 30s, 5m, 1h or 1d`);
    return undefined;
  }
}

/**
 * Checks a parsed document against the policy schema and returns the typed document, or the
 * diagnostics (with line and column) that explain what is wrong. CEL is checked by compilePolicy.
 *
 * @example
 * const parsed = parsePolicySource(text);
 * const { document, diagnostics } = validatePolicy(parsed.value, parsed.sourceMap);
 */
export function validatePolicy(value: unknown, sourceMap: SourceMap): {
  document: PolicyDocument | undefined;
  diagnostics: PolicyDiagnostic[];
} {
  const reader = new Reader(sourceMap);
  const top = reader.object(value, '', TOP_KEYS);
  if (!top) return { document: undefined, diagnostics: reader.diagnostics };
  const name = top.name === undefined ? 'unnamed' : reader.string(top.name, 'name') ?? 'unnamed';
  const agents = readAgents(reader, top.agents);
  const rules = readRules(reader, top.rules);
  const dataFlowSources = readDataFlow(reader, top.dataFlow);
  const progressive = readProgressive(reader, top.progressive);
  if (!reader.diagnostics.some((diagnostic) => diagnostic.severity === 'error')) checkFlowLabels(reader, rules, dataFlowSources);
  const document: PolicyDocument = {
    name,
    ...(typeof top.description === 'string' ? { description: top.description } : {}),
    agents, rules, dataFlowSources, progressive,
  };
  const valid = !reader.diagnostics.some((diagnostic) => diagnostic.severity === 'error');
  return { document: valid ? document : undefined, diagnostics: reader.diagnostics };
}

/** A data-flow rule whose labels no source declares can never fire (a typo silently disabled it). */
function checkFlowLabels(reader: Reader, rules: readonly PolicyRule[], sources: readonly DataFlowSource[]): void {
  const declared = new Set(sources.map((source) => source.label));
  rules.forEach((rule, index) => {
    if (!rule.dataFlow) return;
    const path = `rules[${index}].dataFlow`;
    if (declared.size === 0) {
      reader.error(path, 'POLICY_VALUE', `rule ${rule.id} uses dataFlow but dataFlow.sources declares no source, so it can never fire`);
      return;
    }
    for (const label of rule.dataFlow.labels ?? []) {
      if (!declared.has(label)) {
        reader.error(`${path}.labels`, 'POLICY_VALUE', `rule ${rule.id}: no dataFlow source has the label "${label}" (declared: ${[...declared].join(', ')}), so it can never fire`);
      }
    }
  });
}

function readAgents(reader: Reader, value: unknown): Record<string, AgentPolicy> {
  const agents: Record<string, AgentPolicy> = Object.create(null) as Record<string, AgentPolicy>;
  if (value === undefined) return agents;
  const raw = reader.object(value, 'agents');
  if (!raw) return agents;
  for (const [agentId, spec] of Object.entries(raw)) {
    const path = `agents.${agentId}`;
    if (!reader.readableName(agentId, path)) continue;
    const entry = reader.object(spec ?? {}, path, ['approvedScope', 'enforcement']);
    if (!entry) continue;
    const scope = entry.approvedScope === undefined ? undefined : reader.names(entry.approvedScope, `${path}.approvedScope`);
    const mode = entry.enforcement === undefined
      ? undefined : reader.oneOf<EnforcementMode>(entry.enforcement, `${path}.enforcement`, ENFORCEMENT_MODES);
    agents[agentId] = { ...(scope ? { approvedScope: scope } : {}), ...(mode ? { enforcement: mode } : {}) };
  }
  return agents;
}

function readRules(reader: Reader, value: unknown): PolicyRule[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) {
    reader.error('rules', 'POLICY_TYPE', 'rules must be a list');
    return [];
  }
  const seen = new Set<string>();
  const rules: PolicyRule[] = [];
  let rateLimited = 0;
  value.forEach((item, index) => {
    const rule = readRule(reader, item, `rules[${index}]`);
    if (!rule) return;
    if (seen.has(rule.id)) reader.error(`rules[${index}].id`, 'POLICY_DUPLICATE_RULE', `duplicate rule id "${rule.id}"`);
    seen.add(rule.id);
    if (rule.rateLimit && ++rateLimited === MAX_RATE_LIMIT_RULES + 1) {
      reader.error(`rules[${index}].rateLimit`, 'POLICY_VALUE', `at most ${MAX_RATE_LIMIT_RULES} rules may have a rateLimit (each is a counter the server writes and keeps in memory, per agent, session or user, on every call it applies to)`);
    }
    rules.push(rule);
  });
  return rules;
}

function readRule(reader: Reader, value: unknown, path: string): PolicyRule | undefined {
  const raw = reader.object(value, path, RULE_KEYS);
  if (!raw) return undefined;
  const id = reader.string(raw.id, `${path}.id`);
  const effect = reader.oneOf<Decision>(raw.effect, `${path}.effect`, DECISIONS);
  const when = raw.when === undefined ? undefined : reader.string(raw.when, `${path}.when`);
  const severity = raw.severity === undefined
    ? DEFAULT_RULE_SEVERITY : reader.oneOf<Severity>(raw.severity, `${path}.severity`, SEVERITIES);
  const mode = raw.mode === undefined ? 'enforce' : reader.oneOf(raw.mode, `${path}.mode`, ['enforce', 'shadow'] as const);
  const stage = raw.stage === undefined ? 'call' : reader.oneOf(raw.stage, `${path}.stage`, ['call', 'output'] as const);
  const reason = raw.reason === undefined ? undefined : reader.string(raw.reason, `${path}.reason`);
  const match = readMatch(reader, raw.match, `${path}.match`);
  const after = raw.after === undefined ? undefined : readAfter(reader, raw.after, `${path}.after`);
  const dataFlow = raw.dataFlow === undefined ? undefined : readRuleDataFlow(reader, raw.dataFlow, `${path}.dataFlow`);
  const rateLimit = raw.rateLimit === undefined ? undefined : readRateLimit(reader, raw.rateLimit, `${path}.rateLimit`);
  if (!id || !effect || !severity || !mode || !stage || !match) return undefined;
  return {
    id, effect, severity, mode, stage, match,
    reason: reason ?? `rule ${id}`,
    ...(typeof raw.description === 'string' ? { description: raw.description } : {}),
    ...(when !== undefined ? { when } : {}),
    ...(after ? { after } : {}),
    ...(dataFlow ? { dataFlow } : {}),
    ...(rateLimit ? { rateLimit } : {}),
  };
}

function readMatch(reader: Reader, value: unknown, path: string): RuleMatch | undefined {
  if (value === undefined) return {};
  const raw = reader.object(value, path, ['agents', 'tools', 'users']);
  if (!raw) return undefined;
  const match: { agents?: string[]; tools?: string[]; users?: string[] } = {};
  for (const key of ['agents', 'tools', 'users'] as const) {
    if (raw[key] === undefined) continue;
    const names = reader.names(raw[key], `${path}.${key}`);
    if (names) match[key] = names;
  }
  return match;
}

function readAfter(reader: Reader, value: unknown, path: string): RuleAfter | undefined {
  if (typeof value === 'string' || Array.isArray(value)) {
    const tools = reader.names(value, path);
    return tools ? { tools } : undefined;
  }
  const raw = reader.object(value, path, ['tools', 'within', 'across']);
  if (!raw) return undefined;
  const tools = reader.names(raw.tools, `${path}.tools`);
  const withinMs = raw.within === undefined ? undefined : reader.duration(raw.within, `${path}.within`);
  const across = raw.across === undefined ? undefined : reader.oneOf<SequenceScope>(raw.across, `${path}.across`, SEQUENCE_SCOPES);
  if (across === 'agent' && raw.within === undefined) {
    reader.error(`${path}.within`, 'POLICY_VALUE', 'an agent-wide sequence condition (across: agent) needs a window, e.g. within: 1h (at most 30d)');
    return undefined;
  }
  if (across === 'agent' && withinMs !== undefined && withinMs > MAX_AGENT_SEQUENCE_WINDOW_MS) {
    reader.error(`${path}.within`, 'POLICY_VALUE', 'an agent-wide sequence window is at most 30d (the server keeps 30 days of an agent\'s call history)');
    return undefined;
  }
  if (!tools) return undefined;
  return { tools, ...(withinMs !== undefined ? { withinMs } : {}), ...(across !== undefined ? { across } : {}) };
}

function readRuleDataFlow(reader: Reader, value: unknown, path: string): RuleDataFlow | undefined {
  if (value === true) return {};
  const raw = reader.object(value, path, ['labels', 'across', 'within']);
  if (!raw) return undefined;
  const labels = raw.labels === undefined ? undefined : reader.names(raw.labels, `${path}.labels`);
  if (raw.labels !== undefined && !labels) return undefined;
  const across = raw.across === undefined ? undefined : reader.oneOf<SequenceScope>(raw.across, `${path}.across`, SEQUENCE_SCOPES);
  if (raw.across !== undefined && across === undefined) return undefined;
  if (across !== 'agent') {
    if (raw.within !== undefined) {
      reader.error(`${path}.within`, 'POLICY_VALUE', 'dataFlow.within only applies with across: agent (a session remembers its values for as long as it lasts)');
      return undefined;
    }
    return { ...(labels ? { labels } : {}), ...(across !== undefined ? { across } : {}) };
  }
  if (raw.within === undefined) {
    reader.error(`${path}.within`, 'POLICY_VALUE', 'an agent-wide data-flow condition (across: agent) needs a window, e.g. within: 1h (at most 30d)');
    return undefined;
  }
  const withinMs = reader.duration(raw.within, `${path}.within`);
  if (withinMs === undefined) return undefined;
  if (withinMs > MAX_AGENT_SEQUENCE_WINDOW_MS) {
    reader.error(`${path}.within`, 'POLICY_VALUE', 'an agent-wide data-flow window is at most 30d (the server keeps 30 days of the values returned to an agent)');
    return undefined;
  }
  return { ...(labels ? { labels } : {}), across, withinMs };
}

function readRateLimit(reader: Reader, value: unknown, path: string): RuleRateLimit | undefined {
  const raw = reader.object(value, path, ['count', 'window', 'per']);
  if (!raw) return undefined;
  const count = reader.positiveInteger(raw.count, `${path}.count`);
  const windowMs = reader.duration(raw.window, `${path}.window`);
  const per = raw.per === undefined ? 'agent' : reader.oneOf<RateLimitScope>(raw.per, `${path}.per`, RATE_SCOPES);
  return count && windowMs && per ? { count, windowMs, per } : undefined;
}

function readDataFlow(reader: Reader, value: unknown): DataFlowSource[] {
  if (value === undefined) return [];
  const raw = reader.object(value, 'dataFlow', ['sources']);
  if (!raw || raw.sources === undefined) return [];
  if (!Array.isArray(raw.sources)) {
    reader.error('dataFlow.sources', 'POLICY_TYPE', 'dataFlow.sources must be a list');
    return [];
  }
  if (raw.sources.length > MAX_DATA_FLOW_SOURCES) {
    reader.error('dataFlow.sources', 'POLICY_VALUE', `dataFlow.sources has ${raw.sources.length} entries (at most ${MAX_DATA_FLOW_SOURCES}; list several tools in one source)`);
    return [];
  }
  const sources: DataFlowSource[] = [];
  raw.sources.forEach((item, index) => {
    const path = `dataFlow.sources[${index}]`;
    const source = reader.object(item, path, ['tools', 'label', 'fields', 'minLength']);
    if (!source) return;
    const tools = reader.names(source.tools, `${path}.tools`);
    const label = reader.string(source.label, `${path}.label`);
    const fields = source.fields === undefined ? undefined : reader.names(source.fields, `${path}.fields`);
    const minLength = source.minLength === undefined
      ? DEFAULT_DATA_FLOW_MIN_LENGTH : reader.positiveInteger(source.minLength, `${path}.minLength`);
    if (tools && label && minLength) sources.push({ tools, label, minLength, ...(fields ? { fields } : {}) });
  });
  const fieldCount = sources.reduce((total, source) => total + (source.fields?.length ?? 0), 0);
  if (fieldCount > MAX_DATA_FLOW_FIELDS) {
    reader.error('dataFlow.sources', 'POLICY_VALUE', `dataFlow.sources name ${fieldCount} fields in all (at most ${MAX_DATA_FLOW_FIELDS})`);
  }
  return sources;
}

function readProgressive(reader: Reader, value: unknown): ProgressiveSettings {
  if (value === undefined) return { blockAfter: DEFAULT_PROGRESSIVE_BLOCK_AFTER };
  const raw = reader.object(value, 'progressive', ['blockAfter', 'across', 'within']);
  const blockAfter = raw?.blockAfter === undefined
    ? DEFAULT_PROGRESSIVE_BLOCK_AFTER : reader.positiveInteger(raw.blockAfter, 'progressive.blockAfter');
  const settings = { blockAfter: blockAfter ?? DEFAULT_PROGRESSIVE_BLOCK_AFTER };
  const across = raw?.across === undefined ? undefined : reader.oneOf<SequenceScope>(raw.across, 'progressive.across', SEQUENCE_SCOPES);
  if (!raw || across !== 'agent') {
    // (An unknown `across` is reported on its own.)
    const scoped = raw?.across === undefined || across === 'session';
    if (scoped && raw?.within !== undefined) reader.error('progressive.within', 'POLICY_VALUE', 'progressive.within only applies with across: agent');
    return settings;
  }
  if (raw.within === undefined) {
    reader.error('progressive.within', 'POLICY_VALUE', 'agent-wide progressive escalation (across: agent) needs a window, e.g. within: 1h (at most 30d)');
    return settings;
  }
  const withinMs = reader.duration(raw.within, 'progressive.within');
  if (withinMs !== undefined && withinMs > MAX_AGENT_SEQUENCE_WINDOW_MS) {
    reader.error('progressive.within', 'POLICY_VALUE', 'an agent-wide progressive window is at most 30d (the server keeps 30 days of an agent\'s history)');
    return settings;
  }
  if (settings.blockAfter > MAX_AGENT_VIOLATIONS) {
    reader.error('progressive.blockAfter', 'POLICY_VALUE', `with across: agent, progressive.blockAfter is at most ${MAX_AGENT_VIOLATIONS} (the violations remembered per agent)`);
    return settings;
  }
  return withinMs === undefined ? settings : { ...settings, across, withinMs };
}

function join(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}
