// Accounts the checks use as callers, fixed so that every node makes the same calls.
import { getAddress, type Address } from "viem";

/**
 * The fixed "random" caller of calls anyone could make (an initializer on a bare implementation,
 * a removed initializer on the proxy, an admin entry point probed on the fork): not the upgrade
 * authority of any real proxy, and the same on every node.
 */
export const DEAD_ACCOUNT: Address = getAddress("0x000000000000000000000000000000000000dead");
