// `sentinel verify-attestation <file|hex> --rpc <url> --registry <addr> [--on-chain]`: an
// attestation checked with the node's own code against the validator set the registry holds, and
// with --on-chain by the registry itself. What a bridge relayer runs before it pays for a relay.
import { existsSync, readFileSync } from "node:fs";
import { BaseError, ContractFunctionRevertedError, createPublicClient, http, isHex, type Hex } from "viem";
import { SentinelRegistry } from "../../artifacts/contracts.ts";
import { readValidatorSet, verifyAttestationOffline } from "../client/index.ts";
import { ClientError } from "../client/errors.ts";
import { decodeAttestation } from "../codec/attestation.ts";
import { OUTCOMES } from "../client/types.ts";
import { UsageError } from "./errors.ts";
import { EXIT, EXIT_CODES_HELP, addressFlag, callerPath, chainError, parseCommand, requireFlag, runCommand } from "./common.ts";
import type { CommandIo } from "./keys.ts";

export const VERIFY_ATTESTATION_USAGE = `Usage:
  sentinel verify-attestation <file | 0x…hex> --rpc <url> --registry <address> [--on-chain] [--json]

Verifies an attestation offline, with the node's own code, against the validator set that the
registry at --registry holds (the set the attestation names), and with --on-chain also by calling
the registry's verifyAttestation. <file> holds the hex, or the JSON \`sentinel attestation --out\` writes.

Options:
  --rpc <url>            JSON-RPC of a chain with the network's registry (any chain: the verdict names its own)
  --registry <address>   the SentinelRegistry on that chain
  --on-chain             also ask the registry (an eth_call, no transaction)
  --json                 print { valid, offline, onChain?, digest, verdict, binding, signers }

${EXIT_CODES_HELP}
0 valid (offline and, with --on-chain, on chain), 1 invalid.
`;

export async function runVerifyAttestationCommand(argv: string[], io: CommandIo): Promise<number> {
  return runCommand("verify-attestation", VERIFY_ATTESTATION_USAGE, io, async () => {
    const { values, positionals, help } = parseCommand(
      argv,
      { rpc: { type: "string" }, registry: { type: "string" }, "on-chain": { type: "boolean" }, json: { type: "boolean" } },
      { min: 1, max: 1 },
    );
    if (help) {
      io.stdout(VERIFY_ATTESTATION_USAGE);
      return EXIT.OK;
    }
    const rpc = requireFlag(values.rpc, "--rpc", "the validator set is read from the registry on a chain");
    const registry = addressFlag(requireFlag(values.registry, "--registry", "the network's SentinelRegistry on that chain"), "--registry");
    const encoded = readAttestationArgument(positionals[0]!);
    let setIndex: number;
    try {
      setIndex = decodeAttestation(encoded).setIndex;
    } catch (error) {
      throw new ClientError("ATTESTATION_MALFORMED", `not an attestation: ${(error as Error).message}`);
    }
    const set = await readValidatorSet({ rpcUrl: rpc, registry, index: setIndex }).catch((error: unknown) => {
      if (error instanceof ClientError && error.code === "INVALID_ARGUMENT") return undefined;
      throw error;
    });
    const networkId = set?.networkId;
    const offline = set
      ? verifyAttestationOffline(encoded, { networkId: set.networkId, set })
      : { valid: false, reason: `OTHER_SET: the registry never held validator set ${setIndex}`, ...decodedParts(encoded) };
    let onChain: { valid: boolean; reason?: string } | undefined;
    if (values["on-chain"]) onChain = await verifyOnChain(rpc, registry, encoded);
    const valid = offline.valid && (onChain?.valid ?? true);
    if (values.json) {
      io.stdout(`${JSON.stringify({ valid, networkId: networkId ?? null, offline: { valid: offline.valid, reason: offline.reason ?? null }, onChain: onChain ?? null, digest: offline.digest, verdict: offline.verdict, binding: offline.verdict.binding ?? null, signers: offline.signers }, (_, v: unknown) => (typeof v === "bigint" ? v.toString() : v))}\n`);
    } else {
      const v = offline.verdict;
      io.stdout(`attestation for candidate ${v.candidateId}: ${(OUTCOMES[v.outcome] ?? "?").toUpperCase()} of codehash ${v.codehash} at ${v.target} on chain ${v.chainId}\n`);
      io.stdout(`  signed by validators ${offline.signers.join(", ")} of set ${setIndex}; digest ${offline.digest}\n`);
      io.stdout(
        v.binding === undefined
          ? "  unbound: any operation of a guard may execute the upgrade\n"
          : `  bound to operation ${v.binding}: only that timelock operation or Safe transaction may execute the upgrade\n`,
      );
      io.stdout(`  offline (the node's code, set read from ${registry}): ${offline.valid ? "VALID" : `INVALID: ${offline.reason}`}\n`);
      if (onChain) io.stdout(`  on chain (registry.verifyAttestation): ${onChain.valid ? "VALID" : `INVALID: ${onChain.reason}`}\n`);
    }
    return valid ? EXIT.OK : EXIT.REFUSED;
  });
}

function decodedParts(encoded: Hex) {
  const { verdict, signers } = decodeAttestation(encoded);
  const indices: number[] = [];
  for (let i = 0; signers >> BigInt(i) !== 0n; i++) if ((signers >> BigInt(i)) & 1n) indices.push(i);
  return { verdict, signers: indices, digest: "0x" as Hex };
}

/** A hex argument, or a file holding hex or an attestation record's JSON. */
function readAttestationArgument(argument: string): Hex {
  if (isHex(argument) && !existsSync(callerPath(argument))) return argument;
  let text: string;
  try {
    text = readFileSync(callerPath(argument), "utf8").trim();
  } catch (error) {
    throw new UsageError(`${argument} is neither 0x-prefixed hex nor a readable file (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  if (text.startsWith("{")) {
    let record: { encoded?: unknown };
    try {
      record = JSON.parse(text) as { encoded?: unknown };
    } catch (error) {
      throw new UsageError(`${argument} is not JSON: ${(error as Error).message}`);
    }
    if (typeof record.encoded !== "string" || !isHex(record.encoded)) throw new UsageError(`${argument} has no "encoded" attestation hex`);
    return record.encoded;
  }
  if (!isHex(text)) throw new UsageError(`${argument} holds neither attestation hex nor an attestation record's JSON`);
  return text;
}

/** The registry's own answer: true, false (a well-formed attestation whose signature does not verify), or its named revert. */
async function verifyOnChain(rpc: string, registry: Hex, encoded: Hex): Promise<{ valid: boolean; reason?: string }> {
  const client = createPublicClient({ transport: http(rpc, { retryCount: 1 }) });
  try {
    const ok = await client.readContract({ address: registry, abi: SentinelRegistry.abi, functionName: "verifyAttestation", args: [encoded] });
    return ok ? { valid: true } : { valid: false, reason: "the aggregate signature does not verify" };
  } catch (error) {
    const revert = error instanceof BaseError ? (error.walk((e) => e instanceof ContractFunctionRevertedError) as ContractFunctionRevertedError | null) : null;
    if (revert) return { valid: false, reason: `reverted ${revert.data?.errorName ?? revert.reason ?? revert.shortMessage}` };
    throw chainError(rpc, error);
  }
}
