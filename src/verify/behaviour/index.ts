// The behaviour differential (issue #15): what users really do (recent transactions to the proxy)
// and what the policy probes, made under the current and the new implementation on a fork at the
// pinned block, compared effect by effect, at the upgrade and again after time, blocks and
// repeated calls (run.ts over calls.ts and effects.ts; findings.ts; the check in check.ts).
export { BEHAVIOUR_TIMEOUT_MS, behaviourCheck } from "./check.ts";
export { BEHAVIOUR_CHECK, behaviourFindings } from "./findings.ts";
export { firstDifference } from "./effects.ts";
export type { BehaviourCall, BehaviourReport, Effect, Offset, StepOutcome } from "./report.ts";
export { DEFAULT_LATENT_STEPS, REPLAY_BLOCKS, REPLAY_LIMIT, runBehaviourDifferential, type BehaviourModules, type BehaviourParams } from "./run.ts";
