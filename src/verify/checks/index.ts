import type { Check } from "../pipeline.ts";
import { bytecodeCheck } from "./bytecode.ts";
import { implementationCodeCheck } from "./implementationCode.ts";
import { originCheck } from "./origin.ts";
import { policyCheck } from "./policy.ts";
import { reproducibleBuildCheck } from "./reproducibleBuild.ts";
import { proxySafetyCheck, shadowDeploymentCheck } from "./shadow.ts";
import { sourceCheck } from "./source.ts";
import { storageLayoutCheck, upgradeSafetyCheck } from "./upgrade.ts";

/** Every check, in report order (they run at once; the order is for people). */
export function standardChecks(): Check[] {
  return [
    originCheck,
    policyCheck,
    sourceCheck,
    implementationCodeCheck,
    reproducibleBuildCheck,
    bytecodeCheck,
    upgradeSafetyCheck,
    storageLayoutCheck,
    proxySafetyCheck,
    shadowDeploymentCheck,
  ];
}
