// Every check of the pipeline, one per name of CHECK_NAMES, each from the folder that owns it.
import { CHECK_NAMES, type CheckName } from "../codec/policy.ts";
import { behaviourCheck } from "./behaviour/index.ts";
import { bytecodeCheck } from "./bytecode/index.ts";
import { accessControlCheck } from "./capabilities/index.ts";
import { implementationCodeCheck, originCheck, policyCheck, sourceCheck } from "./inputs/index.ts";
import type { Check } from "./pipeline.ts";
import { reproducibleBuildCheck } from "./reproducibleBuild/index.ts";
import { proxySafetyCheck, shadowDeploymentCheck } from "./shadow/index.ts";
import { storageLayoutCheck, upgradeSafetyCheck } from "./upgradeSafety/index.ts";

/** The check of each name: a name without its check does not compile. */
const CHECKS: Readonly<Record<CheckName, Check>> = {
  origin: originCheck,
  policy: policyCheck,
  source: sourceCheck,
  "implementation-code": implementationCodeCheck,
  "reproducible-build": reproducibleBuildCheck,
  bytecode: bytecodeCheck,
  "upgrade-safety": upgradeSafetyCheck,
  "storage-layout": storageLayoutCheck,
  "proxy-safety": proxySafetyCheck,
  "shadow-deployment": shadowDeploymentCheck,
  "access-control": accessControlCheck(),
  behaviour: behaviourCheck,
};

/** Every check, in report order: CHECK_NAMES's (they run at once; the order is for people). */
export function standardChecks(): Check[] {
  return CHECK_NAMES.map((name) => CHECKS[name]);
}
