// EXPERIMENT (issue 7, third round): the combiners of safety-stack-experiment.mjs, in plain JS and
// deterministic — gradient-boosted shallow trees (logistic loss, Newton leaves, quantile bins), and
// logistic regression / a 1-hidden-layer MLP that keep the base logit as a fixed offset.
import { rng } from './safety-data.mjs';

/**
 * Fits boosted trees. X: number[][] rows, Y: 0/1. params: { rounds, depth, lr, lambda, bins, minHess }.
 * Classes are weighted to equal total weight. Returns { base, trees } (trees of { f, t, l, r } / leaf numbers).
 */
export function fitBoostedTrees(X, Y, { rounds = 150, depth = 2, lr = 0.1, lambda = 1, bins = 32, minHess = 1, offset = -1, negWeight = 1 } = {}) {
  const n = X.length, m = X[0]?.length ?? 0;
  const pos = Y.reduce((s, y) => s + y, 0);
  const wt = Y.map((y) => (y ? n / (2 * pos) : (negWeight * n) / (2 * (n - pos))));
  const thresholds = [];
  const binned = [];
  for (let j = 0; j < m; j++) {
    const vals = X.map((row) => row[j]).sort((a, b) => a - b);
    const t = [...new Set(Array.from({ length: bins - 1 }, (_, q) => vals[Math.floor(((q + 1) * n) / bins)]))];
    thresholds.push(t);
    const col = new Uint8Array(n);
    for (let i = 0; i < n; i++) { let b = 0; while (b < t.length && X[i][j] > t[b]) b++; col[i] = b; }
    binned.push(col);
  }
  const base = Math.log(1); // equal class weight → prior 0.5
  // offset >= 0: start from that feature (the base scorer's logit) and learn corrections to it.
  const F = Float64Array.from(X, (row) => (offset >= 0 ? row[offset] : base));
  const g = new Float64Array(n), h = new Float64Array(n);
  const trees = [];
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < n; i++) { const p = 1 / (1 + Math.exp(-F[i])); g[i] = (p - Y[i]) * wt[i]; h[i] = Math.max(1e-6, p * (1 - p)) * wt[i]; }
    const all = Array.from({ length: n }, (_, i) => i);
    const tree = grow(all, depth);
    trees.push(tree);
    for (let i = 0; i < n; i++) F[i] += evalBinned(tree, binned, i);
  }
  return { base, offset, trees };

  function grow(idx, d) {
    let G = 0, H = 0;
    for (const i of idx) { G += g[i]; H += h[i]; }
    const leaf = (-G / (H + lambda)) * lr;
    if (d === 0 || idx.length < 2) return leaf;
    let best = null;
    const parent = (G * G) / (H + lambda);
    for (let j = 0; j < m; j++) {
      const nb = thresholds[j].length + 1;
      const hg = new Float64Array(nb), hh = new Float64Array(nb);
      const col = binned[j];
      for (const i of idx) { hg[col[i]] += g[i]; hh[col[i]] += h[i]; }
      let gl = 0, hl = 0;
      for (let b = 0; b < nb - 1; b++) {
        gl += hg[b]; hl += hh[b];
        const gr = G - gl, hr = H - hl;
        if (hl < minHess || hr < minHess) continue;
        const gain = (gl * gl) / (hl + lambda) + (gr * gr) / (hr + lambda) - parent;
        if (!best || gain > best.gain) best = { gain, j, b };
      }
    }
    if (!best || best.gain <= 1e-9) return leaf;
    const left = [], right = [];
    for (const i of idx) (binned[best.j][i] <= best.b ? left : right).push(i);
    return { f: best.j, t: thresholds[best.j][best.b], bin: best.b, l: grow(left, d - 1), r: grow(right, d - 1) };
  }
}

function evalBinned(tree, binned, i) {
  let node = tree;
  while (typeof node !== 'number') node = binned[node.f][i] <= node.bin ? node.l : node.r;
  return node;
}

/** Logit of one feature row. */
export function predictBoostedTrees({ base, offset, trees }, row) {
  let s = offset >= 0 ? row[offset] : base;
  for (const tree of trees) {
    let node = tree;
    while (typeof node !== 'number') node = row[node.f] <= node.t ? node.l : node.r;
    s += node;
  }
  return s;
}

/** Logistic regression on standardised features with the first feature (the base logit) as a fixed offset. */
export function fitOffsetLogistic(X, Y, { l2 = 0.01, iters = 300, step = 0.5 } = {}) {
  const m = X[0].length;
  const mu = Array.from({ length: m }, (_, j) => X.reduce((s, r) => s + r[j], 0) / X.length);
  const sd = Array.from({ length: m }, (_, j) => Math.sqrt(X.reduce((s, r) => s + (r[j] - mu[j]) ** 2, 0) / X.length) || 1);
  const Z = X.map((r) => r.map((v, j) => (j === 0 ? v : (v - mu[j]) / sd[j])));
  const pos = Y.reduce((s, y) => s + y, 0), n = Y.length;
  const wt = Y.map((y) => (y ? n / (2 * pos) : n / (2 * (n - pos))));
  const w = new Float64Array(m); let b = 0;
  for (let it = 0; it < iters; it++) {
    const g = new Float64Array(m); let gb = 0;
    Z.forEach((z, i) => { let f = b + z[0]; for (let j = 1; j < m; j++) f += w[j] * z[j]; const e = (1 / (1 + Math.exp(-f)) - Y[i]) * wt[i]; gb += e; for (let j = 1; j < m; j++) g[j] += e * z[j]; });
    b -= (step * gb) / n;
    for (let j = 1; j < m; j++) w[j] -= step * (g[j] / n + l2 * w[j]);
  }
  return { w, b, mu, sd };
}
export const predictOffsetLogistic = ({ w, b, mu, sd }, r) => r.reduce((s, v, j) => s + (j === 0 ? v : w[j] * ((v - mu[j]) / sd[j])), b);

/** 1-hidden-layer MLP (tanh, `hidden` units) on standardised features, the base logit as a fixed offset; full-batch GD, deterministic init. */
export function fitOffsetMlp(X, Y, { hidden = 8, l2 = 0.001, iters = 400, step = 0.3 } = {}) {
  const m = X[0].length, r = rng(7);
  const mu = Array.from({ length: m }, (_, j) => X.reduce((s, row) => s + row[j], 0) / X.length);
  const sd = Array.from({ length: m }, (_, j) => Math.sqrt(X.reduce((s, row) => s + (row[j] - mu[j]) ** 2, 0) / X.length) || 1);
  const Z = X.map((row) => row.map((v, j) => (v - mu[j]) / sd[j]));
  const pos = Y.reduce((s, y) => s + y, 0), n = Y.length;
  const wt = Y.map((y) => (y ? n / (2 * pos) : n / (2 * (n - pos))));
  const W = Array.from({ length: hidden }, () => Array.from({ length: m }, () => (r() - 0.5) * 0.2));
  const c = new Float64Array(hidden), v = new Float64Array(hidden); let b = 0;
  for (let it = 0; it < iters; it++) {
    const gW = W.map(() => new Float64Array(m)), gc = new Float64Array(hidden), gv = new Float64Array(hidden); let gb = 0;
    Z.forEach((z, i) => {
      const a = W.map((wr, k) => Math.tanh(c[k] + wr.reduce((s, w, j) => s + w * z[j], 0)));
      const f = b + X[i][0] + a.reduce((s, ak, k) => s + v[k] * ak, 0);
      const e = (1 / (1 + Math.exp(-f)) - Y[i]) * wt[i];
      gb += e;
      a.forEach((ak, k) => { gv[k] += e * ak; const d = e * v[k] * (1 - ak * ak); gc[k] += d; for (let j = 0; j < m; j++) gW[k][j] += d * z[j]; });
    });
    b -= (step * gb) / n;
    for (let k = 0; k < hidden; k++) { v[k] -= step * (gv[k] / n + l2 * v[k]); c[k] -= (step * gc[k]) / n; for (let j = 0; j < m; j++) W[k][j] -= step * (gW[k][j] / n + l2 * W[k][j]); }
  }
  return { W, c, v, b, mu, sd };
}
export function predictOffsetMlp({ W, c, v, b, mu, sd }, row) {
  const z = row.map((x, j) => (x - mu[j]) / sd[j]);
  return b + row[0] + W.reduce((s, wr, k) => s + v[k] * Math.tanh(c[k] + wr.reduce((t, w, j) => t + w * z[j], 0)), 0);
}
