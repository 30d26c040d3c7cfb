// The contracts' ABIs as the package exports them (`sentinel/abi`), `as const` so that viem
// infers every argument and return type: the registry (verify and submit attestations, read
// decisions, enroll), its interface, and the three guards (their `UpgradeNotApproved` errors).
// They come from artifacts/contracts.ts, which `npm run build:contracts` generates from
// contracts/, so they cannot drift from the Solidity the package also ships.
import { ISentinelRegistry, SentinelGuardedUUPS, SentinelRegistry, SentinelSafeGuard, SentinelTimelockController } from "../../artifacts/contracts.ts";

/** The whole registry: `verifyAttestation`, `submitAttestation`, `isApproved`, `isApprovedFor`, `bindingOf`, `decisionOf`, `enroll`, validator sets. */
export const sentinelRegistryAbi = SentinelRegistry.abi;
/** What a protocol or bridge contract calls: `ISentinelRegistry` in contracts/interfaces/. */
export const iSentinelRegistryAbi = ISentinelRegistry.abi;
/** The UUPS guard's own members (`SENTINEL_REGISTRY`, `UpgradeNotApproved`) next to OpenZeppelin's UUPSUpgradeable. */
export const sentinelGuardedUupsAbi = SentinelGuardedUUPS.abi;
/** OpenZeppelin's TimelockController plus the guard's `SENTINEL_REGISTRY` and `UpgradeNotApproved`. */
export const sentinelTimelockControllerAbi = SentinelTimelockController.abi;
/** The Safe 1.5.0 transaction guard: `checkTransaction`, its errors (`UpgradeNotApproved`, `DelegateCallRefused`, `GuardChangeRefused`, `MalformedMultiSend`). */
export const sentinelSafeGuardAbi = SentinelSafeGuard.abi;
