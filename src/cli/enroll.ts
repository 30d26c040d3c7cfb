// `sentinel enroll`: a target's upgrade authority names who may propose its upgrades and under
// which policy. The registry records (target, caller) and cannot check that the caller is the
// authority (docs/architecture.md), so nodes read only the authority's entry: an enrollment sent
// from another key is silently worthless. This command resolves the authority first, as nodes do,
// and refuses to send from any other key.
import { createPublicClient, http, type Address } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { SentinelRegistry } from "../../artifacts/contracts.ts";
import { resolveUpgradeAuthority, NoUpgradeAuthority } from "../chains/authority.ts";
import { connectChain } from "../chains/clients.ts";
import { DEFAULT_POLICY, parsePolicy, policyHash, PolicyError } from "../codec/policy.ts";
import { UsageError } from "./errors.ts";
import { EXIT, EXIT_CODES_HELP, addressFlag, chainError, parseCommand, readJsonFile, readKeyFile, requireFlag, runCommand } from "./common.ts";
import type { CommandIo } from "./keys.ts";

export const ENROLL_USAGE = `Usage:
  sentinel enroll --rpc <url> --registry <address> --key-file <authority.key> --target <proxy>
                  --proposer <address>[,<address>…] [--policy <policy.json>] [--json]

Enrolls a target: from its upgrade authority (its owner(), or the owner of its ERC-1967 admin, or
that admin), names the proposers whose candidates nodes admit and the policy they verify under.
Nodes read only the authority's enrollment, so this checks first that --key-file IS the authority.

Options:
  --rpc <url>            the target's chain
  --registry <address>   the SentinelRegistry on that chain
  --key-file <file>      the upgrade authority's secp256k1 key (0x + 64 hex digits)
  --target <address>     the proxy (or timelock-governed contract) to protect
  --proposer <list>      comma-separated proposer addresses (at most 32); replaces any earlier list
  --policy <file>        the policy candidates must carry (default: the strict default policy)
  --json                 print { target, authority, kind, proposers, policyHash, txHash }

${EXIT_CODES_HELP}
1 here: the key is not the target's upgrade authority, or the transaction reverted.
`;

export async function runEnrollCommand(argv: string[], io: CommandIo): Promise<number> {
  return runCommand("enroll", ENROLL_USAGE, io, async () => {
    const { values, help } = parseCommand(argv, {
      rpc: { type: "string" },
      registry: { type: "string" },
      "key-file": { type: "string" },
      target: { type: "string" },
      proposer: { type: "string" },
      policy: { type: "string" },
      json: { type: "boolean" },
    });
    if (help) {
      io.stdout(ENROLL_USAGE);
      return EXIT.OK;
    }
    const rpc = requireFlag(values.rpc, "--rpc", "the target's chain");
    const registry = addressFlag(requireFlag(values.registry, "--registry", "the network's SentinelRegistry on that chain"), "--registry");
    const key = readKeyFile(requireFlag(values["key-file"], "--key-file", "only the target's upgrade authority can enroll it"), "authority");
    const target = addressFlag(requireFlag(values.target, "--target", "the contract to protect"), "--target");
    const proposers = requireFlag(values.proposer, "--proposer", "who may propose the target's upgrades")
      .split(",")
      .map((p) => addressFlag(p.trim(), "--proposer"));
    if (proposers.length > 32) throw new UsageError("--proposer lists at most 32 addresses");
    let policy = DEFAULT_POLICY;
    if (values.policy !== undefined) {
      try {
        policy = parsePolicy(readJsonFile(values.policy, "policy file"));
      } catch (error) {
        if (error instanceof PolicyError) throw new UsageError(`${values.policy}: ${error.message} (\`sentinel policy validate ${values.policy}\` lists every problem)`);
        throw error;
      }
    }
    const hash = policyHash(policy);
    const sender = privateKeyToAccount(key).address;
    const reader = createPublicClient({ transport: http(rpc, { retryCount: 1 }) });
    const chainId = await reader.getChainId().catch((error: unknown) => {
      throw chainError(rpc, error);
    });
    let authority: Address;
    let kind: string;
    try {
      ({ authority, kind } = await resolveUpgradeAuthority(reader as never, target));
    } catch (error) {
      if (error instanceof NoUpgradeAuthority) {
        io.stderr(`sentinel enroll: ${error.message}; nothing can be enrolled for it\n`);
        return EXIT.REFUSED;
      }
      throw chainError(rpc, error);
    }
    if (authority.toLowerCase() !== sender.toLowerCase()) {
      io.stderr(
        `sentinel enroll: --key-file's account ${sender} is not the upgrade authority of ${target}: the authority is ${authority} (${kind}).\n` +
          `Nodes read only the authority's enrollment, so one sent from ${sender} would be ignored. Run this with ${authority}'s key.\n`,
      );
      return EXIT.REFUSED;
    }
    const chain = connectChain(chainId, rpc, key);
    const txHash = await chain.wallet.writeContract({ address: registry, abi: SentinelRegistry.abi, functionName: "enroll", args: [target, proposers, hash] });
    const receipt = await chain.client.waitForTransactionReceipt({ hash: txHash });
    if (receipt.status !== "success") {
      io.stderr(`sentinel enroll: the enroll transaction ${txHash} reverted\n`);
      return EXIT.REFUSED;
    }
    if (values.json) io.stdout(`${JSON.stringify({ target, authority, kind, proposers, policyHash: hash, txHash })}\n`);
    else io.stdout(`enrolled ${target} on chain ${chainId} from its upgrade authority ${authority} (${kind}): proposers ${proposers.join(", ")}, policy "${policy.name}" ${hash} (tx ${txHash})\n`);
    return EXIT.OK;
  });
}
