// The one door to @openzeppelin/upgrades-core. Nothing else in Sentinel imports the package: it
// patches process-wide state in two places, and both patches are here, so that no caller can
// reach upgrades-core without them and no other module has to know they exist.
//
// 1. console.error, once, when this module loads. upgrades-core prints notes for people running
//    Hardhat ("reinitializers are not validated") to stderr; a node reports through its findings
//    and its own logger instead. silenceWarnings() turns them off for the whole process (it is
//    upgrades-core's own module-level switch), and announces that on stderr too, so console.error
//    is swapped out for that one synchronous call.
// 2. Math.random, for the duration of each makeNamespacedInput call. upgrades-core names the
//    variables and enums it adds to the namespaced input with Math.random(); a counter makes the
//    rewritten input, and so its compilation, any compiler cache and the findings, the same on
//    every node. The call is synchronous: nothing else can run while Math.random is replaced.
import { makeNamespacedInput as ozMakeNamespacedInput, type SolcInput, type SolcOutput } from "@openzeppelin/upgrades-core";
import { silenceWarnings } from "@openzeppelin/upgrades-core/dist/utils/log.js";

{
  const printError = console.error;
  console.error = () => {};
  try {
    silenceWarnings();
  } finally {
    console.error = printError;
  }
}

export {
  getContractVersion,
  getErrors,
  getStorageLayout,
  getStorageUpgradeReport,
  isNamespaceSupported,
  trySanitizeNatSpec,
  UpgradeableContractErrorReport,
  UpgradesError,
  validate,
  withValidationDefaults,
  type SolcInput as OzSolcInput,
  type SolcOutput as OzSolcOutput,
  type StorageLayout,
  type ValidationRunData,
} from "@openzeppelin/upgrades-core";
// Not re-exported by the package index; both are part of the pinned version's dist.
export { isGap } from "@openzeppelin/upgrades-core/dist/storage/gap.js";
export { LayoutCompatibilityReport } from "@openzeppelin/upgrades-core/dist/storage/report.js";

/** upgrades-core's makeNamespacedInput, deterministic: the names it invents count up from one. */
export function makeNamespacedInput(input: SolcInput, output: SolcOutput, solcVersion: string): SolcInput {
  const random = Math.random;
  let calls = 0;
  Math.random = () => ++calls / 1e6; // upgrades-core prints (Math.random() * 1e6).toFixed(0)
  try {
    return ozMakeNamespacedInput(input, output, solcVersion);
  } finally {
    Math.random = random;
  }
}
