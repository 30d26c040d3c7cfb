// `sentinel registry deploy`: a SentinelRegistry on one's own chain for a given validator set.
// Each key's proof of possession is checked here first, to name a bad one, and then again by the
// registry on chain, which admits no key without it.
import { PublicKey, verify } from "@chainsafe/blst";
import { createPublicClient, hexToBytes, http, isHex, size, type Hex } from "viem";
import { deployRegistry } from "../chains/registry.ts";
import { connectChain } from "../chains/clients.ts";
import { isNetworkId, proofOfPossessionDigest } from "../codec/types.ts";
import { MAX_VALIDATORS, minimumThreshold, sortPublicKeys } from "../consensus/validatorSet.ts";
import { G1_RAW_LENGTH, publicKeyRaw, signatureFromEip2537, type Signature } from "../crypto/bls.ts";
import { UsageError } from "./errors.ts";
import { EXIT, EXIT_CODES_HELP, chainError, parseCommand, readJsonFile, readKeyFile, requireFlag, runCommand } from "./common.ts";
import type { CommandIo } from "./keys.ts";

/** A day: long enough for every relayer to move to a new set before the old one stops verifying. */
const DEFAULT_GRACE_SECONDS = 86_400;

export const REGISTRY_USAGE = `Usage:
  sentinel registry deploy --rpc <url> --key-file <deployer.key> --network-id <0x…> --validators <validators.json>
                           [--threshold <n>] [--grace-seconds <s>] [--json]

Deploys a SentinelRegistry whose genesis validator set is the given keys, and admits them: the
registry checks every key's proof of possession on chain (this command checks them first, to name
a bad one before any gas is spent).

Options:
  --rpc <url>             the chain's JSON-RPC
  --key-file <file>       the deployer's secp256k1 key (0x + 64 hex digits), funded on that chain
  --network-id <0x…>      the Sentinel network id (32 bytes) the proofs of possession were made for
  --validators <file>     a JSON array of what \`sentinel keys generate\` / \`keys show\` print for each validator:
                          [{ "publicKey": "0x…96 bytes", "proofOfPossession": "0x…256 bytes", "networkId"?: "0x…" }, …]
                          (or { "validators": [ … ] })
  --threshold <n>         signatures an attestation needs (default and minimum ⌊2n/3⌋ + 1)
  --grace-seconds <s>     how long a replaced set still verifies after a rotation (default ${DEFAULT_GRACE_SECONDS})
  --json                  print { registry, chainId, networkId, validators, threshold, graceSeconds, admissionGasUsed }

${EXIT_CODES_HELP}
`;

export interface ValidatorEntry {
  key: PublicKey;
  proof: Signature;
}

export async function runRegistryCommand(argv: string[], io: CommandIo): Promise<number> {
  const [subcommand, ...rest] = argv;
  if (subcommand === "--help" || subcommand === "-h" || subcommand === "help") {
    io.stdout(REGISTRY_USAGE);
    return EXIT.OK;
  }
  return runCommand("registry", REGISTRY_USAGE, io, async () => {
    if (subcommand !== "deploy") throw new UsageError(subcommand === undefined ? "missing subcommand: deploy" : `unknown subcommand "${subcommand}"`);
    const { values, help } = parseCommand(rest, {
      rpc: { type: "string" },
      "key-file": { type: "string" },
      "network-id": { type: "string" },
      validators: { type: "string" },
      threshold: { type: "string" },
      "grace-seconds": { type: "string" },
      json: { type: "boolean" },
    });
    if (help) {
      io.stdout(REGISTRY_USAGE);
      return EXIT.OK;
    }
    const rpc = requireFlag(values.rpc, "--rpc", "the chain to deploy on");
    const key = readKeyFile(requireFlag(values["key-file"], "--key-file", "the deployer's key pays for the deployment"), "deployer");
    const networkId = requireFlag(values["network-id"], "--network-id", "the registry belongs to one Sentinel network");
    if (!isNetworkId(networkId)) throw new UsageError("--network-id must be 0x followed by 64 hex digits, not all zero");
    const validators = readValidators(requireFlag(values.validators, "--validators", "the genesis validator set"), networkId);
    const minimum = minimumThreshold(validators.length);
    const threshold = values.threshold === undefined ? minimum : Number(values.threshold);
    if (!Number.isInteger(threshold) || threshold < minimum || threshold > validators.length) {
      throw new UsageError(`--threshold must be an integer from ${minimum} (⌊2n/3⌋ + 1) to ${validators.length}`);
    }
    const grace = values["grace-seconds"] === undefined ? DEFAULT_GRACE_SECONDS : Number(values["grace-seconds"]);
    if (!Number.isSafeInteger(grace) || grace < 0) throw new UsageError("--grace-seconds must be a non-negative integer");

    const chainId = await createPublicClient({ transport: http(rpc, { retryCount: 1 }) })
      .getChainId()
      .catch((error: unknown) => {
        throw chainError(rpc, error);
      });
    const sorted = sortPublicKeys(validators.map((v) => v.key));
    const proofs = sorted.map((k) => validators.find((v) => v.key === k)!.proof);
    const chain = connectChain(chainId, rpc, key);
    const deployment = await deployRegistry(chain, { networkId, rotationGracePeriodSeconds: BigInt(grace), genesis: { keys: sorted, proofs, threshold } });
    const result = {
      registry: deployment.address,
      chainId,
      networkId: networkId.toLowerCase(),
      validators: sorted.length,
      threshold,
      graceSeconds: grace,
      admissionGasUsed: deployment.admissionGasUsed.map(String),
    };
    if (values.json) io.stdout(`${JSON.stringify(result)}\n`);
    else {
      io.stdout(`registry ${deployment.address} on chain ${chainId} for network ${networkId}\n`);
      io.stdout(`  validator set 0: ${sorted.length} keys, threshold ${threshold}; every proof of possession checked here and again on chain (${deployment.admissionGasUsed.length} admission transaction${deployment.admissionGasUsed.length === 1 ? "" : "s"})\n`);
      io.stdout(`  a replaced set still verifies for ${grace} s after a rotation\n`);
    }
    return EXIT.OK;
  });
}

/** A `keys show` list (or one entry), each proof of possession checked for `networkId`. */
export function readValidators(path: string, networkId: Hex): ValidatorEntry[] {
  const document = readJsonFile(path, "validators file");
  const object = document as { validators?: unknown; publicKey?: unknown } | null;
  // One `keys show` output as it was printed, or a list of them.
  const list = Array.isArray(document) ? document : object?.publicKey !== undefined ? [object] : object?.validators;
  if (!Array.isArray(list) || list.length === 0) throw new UsageError(`${path} must hold a non-empty JSON array of { publicKey, proofOfPossession } (what \`sentinel keys show\` prints)`);
  if (list.length > MAX_VALIDATORS) throw new UsageError(`${path} lists ${list.length} validators; a set holds at most ${MAX_VALIDATORS}`);
  const seen = new Set<string>();
  return list.map((entry: unknown, i: number) => {
    const e = (entry ?? {}) as { publicKey?: unknown; proofOfPossession?: unknown; networkId?: unknown };
    const where = `${path}[${i}]`;
    if (typeof e.networkId === "string" && e.networkId.toLowerCase() !== networkId.toLowerCase()) {
      throw new UsageError(`${where} was made for network ${e.networkId}, not --network-id ${networkId}: run \`sentinel keys show --network-id ${networkId}\` for it`);
    }
    if (typeof e.publicKey !== "string" || !isHex(e.publicKey) || size(e.publicKey) !== G1_RAW_LENGTH) throw new UsageError(`${where}.publicKey must be the 96-byte raw key \`keys show\` prints as "publicKey"`);
    if (seen.has(e.publicKey.toLowerCase())) throw new UsageError(`${where}.publicKey is listed twice`);
    seen.add(e.publicKey.toLowerCase());
    let key: PublicKey;
    try {
      key = PublicKey.fromBytes(hexToBytes(e.publicKey), true);
    } catch {
      throw new UsageError(`${where}.publicKey is not a valid BLS12-381 G1 point`);
    }
    if (typeof e.proofOfPossession !== "string" || !isHex(e.proofOfPossession)) throw new UsageError(`${where}.proofOfPossession must be the 256-byte hex \`keys show\` prints`);
    let proof: Signature;
    try {
      proof = signatureFromEip2537(e.proofOfPossession);
    } catch {
      throw new UsageError(`${where}.proofOfPossession is not an EIP-2537 G2 point`);
    }
    const digest = proofOfPossessionDigest(networkId, `0x${Buffer.from(publicKeyRaw(key)).toString("hex")}`);
    if (!verify(hexToBytes(digest), key, proof)) {
      throw new UsageError(`${where}.proofOfPossession does not prove possession of its key for network ${networkId} (the registry would refuse it on chain too)`);
    }
    return { key, proof };
  });
}
