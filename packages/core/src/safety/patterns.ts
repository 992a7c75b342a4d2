import type { FindingType, SafetyFinding } from './types.js';

/**
 * Layer-1 phrase patterns for prompt injection, jailbreaks and toxicity, written for Tollgate
 * (Apache-2.0). Sources of the phrasing: the trigger phrases of the PromptInject and garak prompt
 * families (via Giskard's prompt-injections set), AgentDojo's attack templates, and the attribute
 * names of the Perspective API for the toxicity groups (THREAT, INSULT, PROFANITY, IDENTITY_ATTACK).
 *
 * `score` is the floor the pattern puts under the matching score (injection or toxicity): with the
 * seed thresholds (0.35 / 0.4), patterns at ≥ 0.5 block on their own ("pattern match → block
 * immediately"), weaker ones only contribute a finding and a review.
 *
 * Every regex uses bounded quantifiers with distinct leading tokens (no nested quantifiers over
 * overlapping classes), so matching stays linear; see patterns.test.ts for the 100 KB inputs.
 */
export interface PhrasePattern {
  rule: string;
  type: FindingType;
  score: number;
  regex: RegExp;
}

const FILLER = String.raw`(?:(?:all|any|the|your|my|of|these|those|every|and)\s+){0,4}`;

/** Injection and jailbreak phrasing. */
export const INJECTION_PATTERNS: readonly PhrasePattern[] = [
  {
    rule: 'injection.ignore-previous',
    type: 'injection',
    score: 0.95,
    regex: new RegExp(String.raw`\b(?:ignore|disregard|forget|skip|override|bypass|neglect)\s+${FILLER}(?:previous|prior|above|earlier|preceding|foregoing|original|initial|system|developer|user's|existing|other)\s+(?:and\s+following\s+)?(?:instructions?|iunstructions?|prompts?|directions?|directives?|rules|guidelines|commands?|requests?|tasks?|context|messages?)\b`, 'gi'),
  },
  {
    rule: 'injection.forget-everything',
    type: 'injection',
    score: 0.9,
    regex: /\b(?:ignore|forget|disregard)\s+(?:everything|all)\s+(?:(?:you\s+)?(?:were|have\s+been)\s+told|(?:you\s+)?(?:learned|learnt|know)|before|above|previously|said)\b/gi,
  },
  {
    rule: 'injection.new-instructions',
    type: 'injection',
    score: 0.8,
    regex: /\b(?:new|updated|real|actual|override|secret)\s+(?:system\s+)?(?:instructions?|orders|directives?)\s*[:-]/gi,
  },
  {
    rule: 'injection.role-tag',
    type: 'injection',
    score: 0.9,
    regex: /<\/?(?:system|im_start|im_end|INST|instructions?|INFORMATION|admin|assistant_instructions)>|\[\/?INST\]|#{2,6}[ \t]{0,3}\(?[ \t]{0,3}system[_ ]?(?:message|prompt)[ \t]{0,3}\)?|<\|(?:system|im_start|im_end|endoftext)\|>/gi,
  },
  {
    rule: 'injection.reveal-prompt',
    type: 'injection',
    score: 0.7,
    regex: /\b(?:reveal|print|show|repeat|output|leak|dump|tell\s+me)\s+(?:me\s+)?(?:your\s+(?:(?:full|entire|original|hidden|initial|secret)\s+)?(?:system\s+)?(?:prompt|instructions)|the\s+(?:system|hidden|initial|original|secret)\s+prompt)\b/gi,
  },
  {
    rule: 'injection.conceal-from-user',
    type: 'injection',
    score: 0.3,
    regex: /\b(?:do\s+not|don't|never|without)\s+(?:tell(?:ing)?|inform(?:ing)?|mention(?:ing)?(?:\s+this)?\s+to|notify(?:ing)?|alert(?:ing)?|let(?:ting)?)\s+(?:the\s+)?user\b(?!\s+(?:name|id|interface|experience|account|manual|guide))/gi,
  },
  {
    rule: 'injection.stop-everything',
    type: 'injection',
    score: 0.8,
    regex: /\bstop\s+everything\b[\s\S]{0,40}?\b(?:print|say|output|write)\b/gi,
  },
  {
    rule: 'injection.addressed-to-model',
    type: 'injection',
    score: 0.3,
    regex: /\b(?:dear|attention|hey|hi|note\s+(?:to|for))\s+(?:the\s+)?(?:AI|LLM|language\s+model|assistant|agent|chatbot|GPT)\b/gi,
  },
  {
    rule: 'jailbreak.do-anything-now',
    type: 'jailbreak',
    score: 0.95,
    regex: /\bdo\s+anything\s+now\b|\bstrive\s+to\s+avoid\s+norms\b|\b(?:DAN|STAN|DUDE)\s+mode\b/gi,
  },
  {
    rule: 'jailbreak.mode-enabled',
    type: 'jailbreak',
    score: 0.9,
    regex: /\b(?:developer|god|jailbreak|unrestricted|unfiltered|evil)\s+mode\s+(?:enabled|on|activated)\b|\benable\s+(?:developer|god|jailbreak)\s+mode\b/gi,
  },
  {
    rule: 'jailbreak.no-restrictions',
    type: 'jailbreak',
    score: 0.7,
    regex: /\b(?:pretend|act|behave|roleplay)\s+(?:to\s+be|as|like)\b[^.\n]{0,80}?\b(?:no|without|free\s+(?:of|from))\s+(?:any\s+)?(?:restrictions|rules|filters|limitations|guidelines|censorship|ethics)\b/gi,
  },
];

/** Toxicity phrasing (abuse aimed at someone); single swear words are only a weak signal. */
export const TOXICITY_PATTERNS: readonly PhrasePattern[] = [
  {
    rule: 'toxicity.threat',
    type: 'toxicity',
    score: 0.9,
    regex: /\b(?:i(?:'m|\s+am)?\s*(?:will|'ll|gonna|going\s+to)\s+(?:kill|murder|hurt|beat|shoot|stab|strangle)\s+(?:you|u|your|him|her|them)|kill\s+all\s+(?:humans|people|of\s+you)|(?:go\s+)?kill\s+yourself|i\s+hope\s+(?:you|u)\s+die|burn\s+your\s+house)\b/gi,
  },
  {
    rule: 'toxicity.directed-profanity',
    type: 'toxicity',
    score: 0.8,
    regex: /\b(?:fuck\s+(?:you|off|u|this)|shut\s+the\s+fuck\s+up|(?:you|u)\s+piece\s+of\s+(?:shit|garbage|trash)|son\s+of\s+a\s+bitch)\b/gi,
  },
  {
    rule: 'toxicity.insult',
    type: 'toxicity',
    score: 0.6,
    regex: /\b(?:you(?:'re|\s+are)|ur)\s+(?:a\s+|an\s+|such\s+an?\s+|the\s+)?(?:complete\s+|total\s+|fucking\s+|stupid\s+|pathetic\s+){0,2}(?:idiot|moron|imbecile|loser|scumbag|asshole|bastard|dumbass|worthless|pathetic|useless\s+fool|piece\s+of\s+(?:shit|garbage))\b/gi,
  },
  {
    rule: 'toxicity.dehumanizing',
    type: 'toxicity',
    score: 0.6,
    regex: /\b(?:are|is)\s+(?:all\s+)?(?:vermin|subhuman|parasites|cockroaches|animals\s+and\s+should)\b|\bshould\s+(?:all\s+)?be\s+(?:wiped\s+out|exterminated|eradicated)\b|\bi\s+hate\s+(?:humans|humanity|people\s+like\s+you)\b/gi,
  },
  {
    rule: 'toxicity.profanity',
    type: 'toxicity',
    score: 0.2,
    regex: /\b(?:fuck(?:ing|ed|er)?|shit(?:ty)?|bullshit|bitch(?:es)?|asshole|bastard|dickhead|motherfucker)\b/gi,
  },
];

/** Longest excerpt kept in a phrase finding's `redacted` field. */
const EXCERPT_CHARS = 80;

/**
 * Runs phrase patterns over `text`; returns findings and the highest score per finding type group.
 *
 * @example
 * matchPatterns('Ignore all previous instructions.', INJECTION_PATTERNS).score; // 0.95
 */
export function matchPatterns(text: string, patterns: readonly PhrasePattern[]): { findings: SafetyFinding[]; score: number } {
  const findings: SafetyFinding[] = [];
  let score = 0;
  for (const p of patterns) {
    for (const m of text.matchAll(p.regex)) {
      const start = m.index;
      findings.push({ type: p.type, rule: p.rule, start, end: start + m[0].length, redacted: m[0].slice(0, EXCERPT_CHARS) });
      score = Math.max(score, p.score);
    }
  }
  return { findings, score };
}
