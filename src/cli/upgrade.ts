// `sentinel upgrade`: the guarded upgrade itself, from the proxy's upgrade authority: calls
// upgradeToAndCall, which a Sentinel guard lets through only for code the network approved. The
// call is simulated first, so a refusal costs nothing and is named (UpgradeNotApproved).
import { BaseError, ContractFunctionRevertedError, createPublicClient, http, isHex, keccak256, type Address, type Hex } from "viem";
import { SentinelGuardedUUPS, SentinelRegistry } from "../../artifacts/contracts.ts";
import { connectChain, type ChainClients } from "../chains/clients.ts";
import { UsageError } from "./errors.ts";
import { EXIT, EXIT_CODES_HELP, addressFlag, chainError, parseCommand, readKeyFile, requireFlag, runCommand } from "./common.ts";
import type { CommandIo } from "./keys.ts";

export const UPGRADE_USAGE = `Usage:
  sentinel upgrade --rpc <url> --proxy <address> --implementation <address> --key-file <owner.key> [--call <0x…>]

Calls the UUPS proxy's upgradeToAndCall(implementation, call) from its owner. A proxy behind
SentinelGuardedUUPS accepts it only if the registry approved this implementation's code for this
proxy on this chain, unbound (an approval bound to a timelock operation or Safe transaction is
for that operation alone); the call is simulated first, so a refusal sends nothing.

Options:
  --rpc <url>               the proxy's chain
  --proxy <address>         the proxy
  --implementation <addr>   the new implementation
  --key-file <file>         the key of the proxy's owner (0x + 64 hex digits)
  --call <0x…>              calldata for the new implementation (default none)

${EXIT_CODES_HELP}
1 here: the guard (or the proxy's access control) refused the upgrade.
`;

export async function runUpgradeCommand(argv: string[], io: CommandIo): Promise<number> {
  return runCommand("upgrade", UPGRADE_USAGE, io, async () => {
    const { values, help } = parseCommand(argv, {
      rpc: { type: "string" },
      proxy: { type: "string" },
      implementation: { type: "string" },
      "key-file": { type: "string" },
      call: { type: "string" },
    });
    if (help) {
      io.stdout(UPGRADE_USAGE);
      return EXIT.OK;
    }
    const rpc = requireFlag(values.rpc, "--rpc", "the proxy's chain");
    const proxy = addressFlag(requireFlag(values.proxy, "--proxy", "the proxy to upgrade"), "--proxy");
    const implementation = addressFlag(requireFlag(values.implementation, "--implementation", "the code to upgrade to"), "--implementation");
    const key = readKeyFile(requireFlag(values["key-file"], "--key-file", "upgradeToAndCall is the owner's"), "owner");
    const call = (values.call ?? "0x") as Hex;
    if (!isHex(call)) throw new UsageError("--call must be 0x-prefixed hex calldata");
    const reader = createPublicClient({ transport: http(rpc, { retryCount: 1 }) });
    const [chainId, code] = await Promise.all([reader.getChainId(), reader.getCode({ address: implementation })]).catch((error: unknown) => {
      throw chainError(rpc, error);
    });
    if (code === undefined || code === "0x") throw new UsageError(`no contract at --implementation ${implementation} on chain ${chainId}`);
    const chain = connectChain(chainId, rpc, key);
    let request;
    try {
      ({ request } = await chain.client.simulateContract({
        account: chain.wallet.account,
        address: proxy,
        abi: SentinelGuardedUUPS.abi,
        functionName: "upgradeToAndCall",
        args: [implementation, call],
      }));
    } catch (error) {
      const revert = error instanceof BaseError ? (error.walk((e) => e instanceof ContractFunctionRevertedError) as ContractFunctionRevertedError | null) : null;
      if (!revert) throw chainError(rpc, error);
      const name = revert.data?.errorName ?? revert.reason ?? "a revert";
      const binding = name === "UpgradeNotApproved" ? await boundTo(chain.client, proxy, BigInt(chainId), keccak256(code)) : undefined;
      const why =
        binding !== undefined
          ? `the guard refused it: the approval of codehash ${keccak256(code)} for ${proxy} is bound to operation ${binding}, which only that timelock operation or Safe transaction may execute`
          : name === "UpgradeNotApproved"
          ? `the guard refused it: the registry has not approved codehash ${keccak256(code)} for ${proxy} on chain ${chainId} (submit a candidate and wait for its approval)`
          : `it reverted with ${name}${revert.data?.args ? ` ${JSON.stringify(revert.data.args, (_, v: unknown) => (typeof v === "bigint" ? v.toString() : v))}` : ""}`;
      io.stderr(`sentinel upgrade: ${proxy} was not upgraded: ${why}\n`);
      return EXIT.REFUSED;
    }
    const hash = await chain.wallet.writeContract(request);
    const receipt = await chain.client.waitForTransactionReceipt({ hash });
    if (receipt.status !== "success") {
      io.stderr(`sentinel upgrade: the upgrade transaction ${hash} reverted\n`);
      return EXIT.REFUSED;
    }
    io.stdout(`upgraded ${proxy} to ${implementation} on chain ${chainId} (tx ${hash})\n`);
    return EXIT.OK;
  });
}

/**
 * The operation an approval is bound to, when that is why the UUPS guard refused (it names no
 * operation, so it cannot use a bound approval); undefined when unbound or unreadable: the
 * refusal is then reported as it is.
 */
async function boundTo(client: ChainClients["client"], proxy: Address, chainId: bigint, codehash: Hex): Promise<Hex | undefined> {
  try {
    const registry = await client.readContract({ address: proxy, abi: SentinelGuardedUUPS.abi, functionName: "SENTINEL_REGISTRY" });
    const binding = await client.readContract({ address: registry, abi: SentinelRegistry.abi, functionName: "bindingOf", args: [chainId, proxy, codehash] });
    return /^0x0{64}$/.test(binding) ? undefined : binding;
  } catch {
    return undefined;
  }
}
