// The "upgrade-safety" and "storage-layout" checks: one upgrades-core analysis per candidate
// (analysis.ts, through the upgradesCore.ts adapter), reported as two checks so that a policy can
// make either advisory on its own.
export { checkUpgradeSafety, namespacedCompilation } from "./analysis.ts";
export { proxyKind, storageLayoutCheck, upgradeSafetyCheck } from "./check.ts";
export type { Compile, ProxyKind, SolcOutput, UpgradeBuild, UpgradeSafetyFindings } from "./types.ts";
