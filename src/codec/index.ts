// The codec as the package exports it (`sentinel/codec`): the one definition of each signed
// structure the node, the CLI and the registry use. EIP-712 types and digests (verdict,
// candidate, rotation, proof of possession), the attestation (554 bytes, 586 when bound), the candidate and its
// JSON form, the source bundle and the policy with their hashes, and the error base every
// SentinelError thrown here extends. Pure functions over viem; no node, no network.
export * from "./types.ts";
export * from "./attestation.ts";
export * from "./candidate.ts";
export * from "./bundle.ts";
export * from "./policy.ts";
export * from "./revocation.ts";
export { SentinelError, hasCode, describeError } from "../errors.ts";
export type { Address, Hex } from "viem";
