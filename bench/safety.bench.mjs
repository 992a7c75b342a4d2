// Content-safety benchmark for `npm run bench`: the headline grouped cross-validation of
// bench/safety-eval.mjs (every source group held out once, the whole training procedure re-run per
// fold; ~30 s), the previously inspected held-out split (recall/FPR) and built-in layer latency per KB.
// Same numbers as `npm run eval:safety`. The grouped-CV figures are the ones to quote; the split's are
// kept for continuity (see docs/content-safety.md, Evaluation).
import { evaluateSafety } from './safety-eval.mjs';

export default async function run({ log }) {
  const result = evaluateSafety({ groupedCv: true });
  const cv = result.groupedCv;
  const embedded = result.injection.attacks['embedded in tool output'];
  const noTrigger = result.injection.attacks['embedded in tool output / without trigger phrase'];
  const fpr = result.injection.benign['benign tool outputs (all)'].rate;
  const p99 = Math.max(...Object.values(result.latency).map((l) => l.p99MsPerKb));
  const p50 = Math.max(...Object.values(result.latency).map((l) => l.p50MsPerKb));
  log?.(`grouped CV: injection recall ${cv.attacks.recall} (without trigger phrases ${cv.withoutTriggerPhrase.recall}), benign tool-output FPR ${cv.benignRealToolOutputs.fpr}; held-out split: recall ${embedded.recall}, FPR ${fpr}; p50 ${p50} / p99 ${p99} ms per KB`);
  return {
    name: 'safety',
    metrics: {
      groupedCvInjectionRecall: cv.attacks.recall,
      groupedCvRecallWithoutTriggerPhrase: cv.withoutTriggerPhrase.recall,
      groupedCvBenignToolOutputFpr: cv.benignRealToolOutputs.fpr,
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
    pass: cv.pass.injectionRecall && cv.pass.benignFpr && result.pass.latency,
  };
}
