// Content-safety benchmark for `npm run bench`: the held-out evaluation of bench/safety-eval.mjs
// (recall/FPR on the test split) plus built-in layer latency per KB. Same numbers as `npm run eval:safety`.
import { evaluateSafety } from './safety-eval.mjs';

export default async function run({ log }) {
  const result = evaluateSafety();
  const embedded = result.injection.attacks['embedded in tool output'];
  const noTrigger = result.injection.attacks['embedded in tool output / without trigger phrase'];
  const fpr = result.injection.benign['benign tool outputs (all)'].rate;
  const p99 = Math.max(...Object.values(result.latency).map((l) => l.p99MsPerKb));
  const p50 = Math.max(...Object.values(result.latency).map((l) => l.p50MsPerKb));
  log?.(`injection recall ${embedded.recall} (without trigger phrases ${noTrigger.recall}), benign tool-output FPR ${fpr}, p50 ${p50} / p99 ${p99} ms per KB`);
  return {
    name: 'safety',
    metrics: {
      injectionRecallEmbedded: embedded.recall,
      injectionRecallWithoutTriggerPhrase: noTrigger.recall,
      injectionPrecisionEmbedded: embedded.precision,
      benignToolOutputFpr: fpr,
      toxicityRecall: result.toxicity.recall,
      toxicityFpr: result.toxicity.fpr,
      p50MsPerKb: p50,
      p99MsPerKb: p99,
    },
    targets: result.targets,
    pass: result.pass.injectionRecall && result.pass.benignFpr && result.pass.latency,
  };
}
