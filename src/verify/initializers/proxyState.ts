// The proxy's own initializer state at the pinned block, and which of the current
// implementation's removed functions are initializers that can only revert on it.
//
// upgrades-core's initializer rules are about deploying a proxy; an upgrade meets one that is
// already initialized. What an initializer guard does on this proxy depends on its Initializable
// state only, so it is read where the upgrade will meet it: the proxy's storage at the pinned block,
// at the place the reference build's Initializable keeps it (ast.ts), and confirmed by calling the
// function there.
import { BaseError, hexToBigInt, isHex, numberToHex, type Hex } from "viem";
import { DEAD_ACCOUNT } from "../accounts.ts";
import type { VerificationContext } from "../context.ts";
import { initializableLayout, initializerGuards, INITIALIZABLE_V5_SLOT, type InitializerGuard } from "./ast.ts";

export type ProxyInitializable =
  | { flavour: "oz-v5" | "oz-v4"; version: bigint; initializing: boolean }
  | { flavour: "unknown" };

/** OZ v5 `InvalidInitialization()`. */
const INVALID_INITIALIZATION: Hex = "0xf92ee8a9";
/** OZ v4's `require` message: `Error("Initializable: contract is already initialized")`, ABI-encoded. */
const V4_ALREADY_INITIALIZED: Hex =
  "0x08c379a0000000000000000000000000000000000000000000000000000000000000002000000000000000000000000000000000000000000000000000000000000000002e496e697469616c697a61626c653a20636f6e747261637420697320616c726561647920696e697469616c697a6564000000000000000000000000000000000000";
/** Zero bytes after the selector: enough for the head (and empty tails) of any realistic initializer's arguments. */
const ZERO_ARGUMENTS = "00".repeat(32 * 64);

/**
 * The proxy's Initializable state at the pinned block, where the reference build's Initializable
 * keeps it; "unknown" when it has none or keeps it elsewhere. Shared by the checks that need it.
 * Needs the reference build (owned by reproducible-build); the storage read is the caller's to fail on.
 */
export function proxyInitializable(context: VerificationContext): Promise<ProxyInitializable> {
  return context.shared("proxyInitializable", async () => {
    const build = await context.need("reference build", () => context.referenceBuild());
    const layout = initializableLayout(build.output, build.spec.contract);
    if (layout.flavour === "unknown") return { flavour: "unknown" };
    const slot = layout.flavour === "oz-v5" ? INITIALIZABLE_V5_SLOT : numberToHex(layout.slot, { size: 32 });
    const word = hexToBigInt(
      (await context.client.getStorageAt({ address: context.candidate.target, slot, blockNumber: context.candidate.blockNumber })) ?? "0x0",
    );
    if (layout.flavour === "oz-v5") return { flavour: "oz-v5", version: word & (2n ** 64n - 1n), initializing: ((word >> 64n) & 0xffn) !== 0n };
    const field = (offset: number, bytes: number) => (word >> BigInt(8 * offset)) & ((1n << BigInt(8 * bytes)) - 1n);
    return { flavour: "oz-v4", version: field(layout.initializedOffset, layout.initializedBytes), initializing: field(layout.initializingOffset, 1) !== 0n };
  });
}

/** A removed function that can only revert on this proxy: its guard, and the state that makes it fire. */
export interface DeadInitializer extends InitializerGuard {
  selector: Hex;
  flavour: "oz-v5" | "oz-v4";
  /** The proxy's initialized version at the pinned block. */
  initializedVersion: bigint;
}

/**
 * Which of `removed` (selectors of the current implementation that the new one lacks) are dead
 * initializers on this proxy: declared in the reference contract with OZ's `initializer` or
 * `reinitializer(n)` as first modifier (ast.ts); the proxy's Initializable, at the pinned block,
 * not initializing and at a version ≥ n (≥ 1 for `initializer`); and the call, made on the proxy
 * at the pinned block by an arbitrary account, reverting with Initializable's own error. Anything
 * else is not provably dead and stays a removal.
 */
export async function deadInitializers(context: VerificationContext, removed: readonly Hex[]): Promise<Map<Hex, DeadInitializer>> {
  const dead = new Map<Hex, DeadInitializer>();
  if (removed.length === 0) return dead;
  const build = await context.need("reference build", () => context.referenceBuild());
  const guards = initializerGuards(build.output, build.spec.contract);
  const candidates = removed.filter((selector) => guards.has(selector));
  if (candidates.length === 0) return dead;
  const state = await proxyInitializable(context);
  if (state.flavour === "unknown" || state.initializing) return dead;
  for (const selector of candidates) {
    const guard = guards.get(selector)!;
    if (state.version < guard.version) continue;
    if (!(await revertsAsInitialized(context, selector, state.flavour))) continue;
    dead.set(selector, { selector, ...guard, flavour: state.flavour, initializedVersion: state.version });
  }
  return dead;
}

/** The call on the proxy at the pinned block reverts with Initializable's "already initialized" error. */
async function revertsAsInitialized(context: VerificationContext, selector: Hex, flavour: "oz-v5" | "oz-v4"): Promise<boolean> {
  try {
    await context.client.call({
      account: DEAD_ACCOUNT,
      to: context.candidate.target,
      data: `${selector}${ZERO_ARGUMENTS}` as Hex,
      blockNumber: context.candidate.blockNumber,
    });
    return false;
  } catch (error) {
    const data = revertData(error);
    if (data === undefined) {
      // A revert without data is still the contract's answer (not Initializable's); anything else is the node failing.
      if (error instanceof BaseError && /revert/i.test(error.details ?? error.shortMessage)) return false;
      throw error;
    }
    return flavour === "oz-v5" ? data === INVALID_INITIALIZATION : data === V4_ALREADY_INITIALIZED;
  }
}

/** The revert data of a viem call error, lowercase (the deepest cause's, as viem's own getRevertErrorData reads it); undefined if none. */
function revertData(error: unknown): Hex | undefined {
  if (!(error instanceof BaseError)) return undefined;
  const deepest = error.walk() as { data?: unknown } | null;
  const data = typeof deepest?.data === "object" && deepest.data !== null ? (deepest.data as { data?: unknown }).data : deepest?.data;
  return typeof data === "string" && isHex(data) ? (data.toLowerCase() as Hex) : undefined;
}
