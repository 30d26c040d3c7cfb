// The access-control check: symbolic analysis of who can reach which capability, before and after an upgrade.
export { analyseFunction, DEFAULT_ANALYSIS, type AnalysisOptions, type FunctionCapabilities, type ImplementationUnderTest, type PinnedState, type Reach } from "./analysis.ts";
export { accessControlCheck, applyCapabilityPolicy, compare } from "./check.ts";
export { SLOTS, type CapabilityKind } from "./effects.ts";
