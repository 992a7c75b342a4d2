// EXPERIMENT (issue 7, third round): per-sentence context-mismatch features for a stacked
// combiner over the linear scorer's sentence logits. An injected goal is usually off-topic for the
// document around it and addressed to an agent; these features try to say so. Plain JS, used by
// safety-stack-experiment.mjs only (nothing here ships unless the inner-CV rule keeps it).
import { createFoldBuffer, sentenceFeatures, splitSentences } from '../dist/safety/features.js';

const STOP = new Set('a an the and or but if of to in on at by for with from as is are was were be been being it its this that these those i me my we our you your he she they them their his her there here not no do does did have has had will would can could should may might shall just so than then too very also about into over after before up down out what which who whom when where why how all any each some such only own same other more most'.split(' '));
const BASE_VERBS = new Set('send forward transfer delete remove email execute run visit click download upload post share change reset update create add write tell give make provide include insert append translate summarize summarise list find search book buy pay invite schedule cancel open go navigate respond reply answer say print output recommend suggest explain describe ensure use call contact grant disable enable install copy move rename modify set check verify confirm read show display return'.split(' '));
const ACTION_VERBS = new Set('send forward transfer delete email execute run visit click download upload post share password pay wire invite grant disable install export leak reveal exfiltrate publish'.split(' '));
const ADDRESSEE = new Set('assistant ai agent model system chatbot bot llm gpt claude'.split(' '));
const SECOND = new Set(['you', 'your', 'yourself', 'yours']);
const URLISH = /\b(?:https?:\/\/\S+|www\.\S+|[\w.+-]+@[\w-]+\.[\w.-]+|[a-z0-9-]+\.(?:com|net|org|io|ru|xyz)\b)/gi;

const words = (s) => s.toLowerCase().replace(/\\[nrt"\\]/g, ' ').split(/[^a-z0-9\u00c0-\uffff']+/).filter(Boolean);

// SAFETY_CONTEXT_GRAMS=char3: character trigrams of content words (denser overlap between short sentences).
const CHAR3 = process.env.SAFETY_CONTEXT_GRAMS === 'char3';
function bag(ws) {
  const m = new Map();
  const put = (k) => m.set(k, (m.get(k) ?? 0) + 1);
  for (const w of ws) {
    if (STOP.has(w) || w.length < 2) continue;
    if (!CHAR3) put(w);
    else { const p = ` ${w} `; for (let i = 0; i + 3 <= p.length; i++) put(p.slice(i, i + 3)); }
  }
  return m;
}
function addInto(acc, b, sign = 1) { for (const [k, v] of b) acc.set(k, (acc.get(k) ?? 0) + sign * v); }
function cosine(a, b) {
  let dot = 0, na = 0, nb = 0;
  for (const [k, v] of a) { na += v * v; const o = b.get(k); if (o) dot += v * o; }
  for (const v of b.values()) nb += v * v;
  return na && nb ? dot / Math.sqrt(na * nb) : 0;
}

export const CONTEXT_FEATURE_NAMES = [
  'logit', 'logitMinusDocMax', 'logitMinusMedian', 'docMax', 'isDocMax',
  'simRest', 'simNeighbours', 'simHead', 'imperative', 'pleaseMust', 'addressee', 'second', 'action',
  'newLink', 'position', 'isFirst', 'isLast', 'logTokens', 'question', 'neighbourLogit',
];

/**
 * Per-sentence feature rows of `text` under the linear model `model` ({ w, bias }, smoothing from config).
 * Returns { sentences, rows } with rows[i] aligned to CONTEXT_FEATURE_NAMES.
 */
export function contextFeatureRows(text, model, smoothing) {
  const sentences = splitSentences(text);
  const fold = createFoldBuffer();
  const n = sentences.length;
  const logits = new Float64Array(n);
  const toks = [];
  const bags = [];
  const links = [];
  const total = new Map();
  const linkCount = new Map();
  for (let i = 0; i < n; i++) {
    const s = sentences[i];
    let dot = 0, count = 0;
    count = sentenceFeatures(text, s.start, s.end, { add: (b) => { dot += model.w[b]; } }, fold);
    logits[i] = model.bias + dot / Math.sqrt(count + smoothing);
    const raw = text.slice(s.start, s.end);
    const ws = words(raw);
    toks.push(ws);
    const b = bag(ws);
    bags.push(b);
    addInto(total, b);
    const ls = [...raw.matchAll(URLISH)].map((m) => m[0].toLowerCase().replace(/[.,;:)]+$/, ''));
    links.push(ls);
    for (const l of new Set(ls)) linkCount.set(l, (linkCount.get(l) ?? 0) + 1);
  }
  const head = new Map();
  for (let i = 0; i < Math.min(3, n); i++) addInto(head, bags[i]);
  const docMax = n ? Math.max(...logits) : 0;
  const sorted = [...logits].sort((a, b) => a - b);
  const median = n ? sorted[Math.floor(n / 2)] : 0;
  const rows = [];
  for (let i = 0; i < n; i++) {
    const rest = new Map(total); addInto(rest, bags[i], -1);
    const neigh = new Map(); if (i > 0) addInto(neigh, bags[i - 1]); if (i + 1 < n) addInto(neigh, bags[i + 1]);
    const headRest = new Map(head); if (i < 3) addInto(headRest, bags[i], -1);
    const ws = toks[i];
    const first = ws.find((w) => !/^\d+$/.test(w)) ?? '';
    const joined = ` ${ws.join(' ')} `;
    const raw = text.slice(sentences[i].start, sentences[i].end);
    rows.push([
      logits[i], logits[i] - docMax, logits[i] - median, docMax, logits[i] === docMax ? 1 : 0,
      n > 1 ? cosine(bags[i], rest) : -1, n > 1 ? cosine(bags[i], neigh) : -1, n > 3 || i >= 3 ? cosine(bags[i], headRest) : -1,
      BASE_VERBS.has(first) || first === 'please' ? 1 : 0,
      /\b(?:please|you must|you need to|make sure|be sure|don't forget|do not forget|remember to|immediately|right away)\b/.test(joined) ? 1 : 0,
      ws.some((w) => ADDRESSEE.has(w)) ? 1 : 0,
      ws.filter((w) => SECOND.has(w)).length,
      ws.filter((w) => ACTION_VERBS.has(w)).length,
      links[i].some((l) => linkCount.get(l) === 1) ? 1 : 0,
      n > 1 ? i / (n - 1) : 0, i === 0 ? 1 : 0, i === n - 1 ? 1 : 0,
      Math.log1p(ws.length), /\?\s*$/.test(raw) ? 1 : 0,
      Math.max(i > 0 ? logits[i - 1] : -10, i + 1 < n ? logits[i + 1] : -10),
    ]);
  }
  return { sentences, rows };
}
