// The shadow deployment and the two checks it serves: on an anvil fork at the pinned block the
// real authority (impersonated) performs the upgrade with its call, the invariants are read before
// and after, and the upgrade is tried once more (run.ts, over fork.ts, invariants.ts and
// stateDiff.ts). The report (report.ts) becomes "shadow-deployment" findings (findings.ts) and
// "proxy-safety" findings (proxySafety.ts, over the facts of proxyFacts.ts): one run, two checks,
// so that a policy can make either advisory on its own. The forks are anvil processes whose owner
// is the caller (anvil.ts): a pipeline worker thread, `sentinel check`, a test.
export {
  AnvilProcesses,
  anvilBinaryPath,
  killOrphanedAnvils,
  startAnvil,
  type AnvilInstance,
  type AnvilOptions,
  type AnvilProcessesOptions,
} from "./anvil.ts";
export { proxySafetyCheck, SHADOW_TIMEOUT_MS, shadowDeploymentCheck, shadowDetails } from "./check.ts";
export { ShadowDeploymentError, type ShadowErrorCode } from "./errors.ts";
export { SHADOW_DEPLOYMENT_CHECK, shadowDeploymentFindings, shadowFailureFindings, shadowFindings } from "./findings.ts";
export { firstLine } from "./errors.ts";
export { runOnForks, type ForkRun, type ForkRunModules, type ForkRunParams } from "./forkRun.ts";
export { decodeRevert, ethCall, JsonRpc, pinnedBlock, type PinnedBlock, type Revert, type RpcLog } from "./fork.ts";
export { evaluateInvariant, invariantHolds, parseArgument, prepareInvariant, type InvariantResult, type InvariantValue, type PreparedInvariant } from "./invariants.ts";
export {
  DEAD_ACCOUNT,
  ERC1967_IMPLEMENTATION_SLOT,
  INITIALIZABLE_V5_SLOT,
  initializableState,
  push4Constants,
  selectorConstants,
  transparentSelectorClash,
  type InitializableState,
  type SelectorClash,
} from "./proxyFacts.ts";
export { PROXY_SAFETY_CHECK, proxySafetyFindings } from "./proxySafety.ts";
export { DECISIONS_SLOT, registryApprovalOverride, type StorageOverride } from "./registryApproval.ts";
export type { AdminEvent, AdminState, ProxiableCheck, ProxyKind, ShadowReport, StateDiff, StorageChange, UpgradeOutcome } from "./report.ts";
export { adminState, forkRequest, runShadowDeployment, upgradeAuthority, upgradeTransaction, type ShadowModules, type ShadowParams, type UpgradeTx } from "./run.ts";
export { stateDiffDigest } from "./stateDiff.ts";
