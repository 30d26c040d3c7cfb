// `sentinel candidate create`: the file a proposer submits (POST /v1/candidates) and that
// `sentinel check` reads: the candidate filled in from the chain and the bundle (chain id,
// pinned block, source and policy hashes), signed with the proposer's key when one is given,
// the bundle alongside.
import { readFileSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { createPublicClient, getAddress, http, isAddress, type Address, type Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { DEFAULT_ADMISSION } from "../admission/admission.ts";
import { bundleHash, parseBundle } from "../codec/bundle.ts";
import { candidateId, candidateTypedData, signedCandidateToJson, type Candidate } from "../codec/candidate.ts";
import { isBinding, isNetworkId, sentinelDomain } from "../codec/types.ts";
import { loadKeyFile } from "../crypto/secp256k1.ts";
import { policyHash } from "../codec/policy.ts";
import type { CommandIo } from "./keys.ts";
import { callerPath } from "./common.ts";

export const CANDIDATE_USAGE = `Usage:
  sentinel candidate create --bundle <bundle.json> --rpc <url> --target <proxy> --implementation <address> [options]

Writes { candidate, signature?, proposer?, candidateId?, bundle }: the body to POST to a node's /v1/candidates, and the
file \`sentinel check\` reads. chainId and blockNumber (the block every node verifies at) are read
from --rpc; sourceHash and policyHash are the bundle's.

Options:
  --proposer-key-file <file>  sign with this secp256k1 key (0x + 64 hex); without it the file is unsigned (a dry run)
  --network-id <0x…>          the Sentinel network the signature is for (required with a key)
  --lifetime <seconds>        how long the approval asked for lasts (default 86400, at most ${DEFAULT_ADMISSION.maxLifetimeSeconds})
  --nonce <n>                 default: the current time in milliseconds
  --binding <0x…>             limit the approval to one operation: the TimelockController operation id
                              (hashOperation / hashOperationBatch) or the Safe transaction hash
                              (getTransactionHash, with the nonce it will execute at) that will run the
                              upgrade; SentinelTimelockController and SentinelSafeGuard then execute no
                              other operation under it, and SentinelGuardedUUPS cannot use it
  --out <file>                default: stdout
`;

export async function runCandidateCommand(argv: string[], io: CommandIo): Promise<number> {
  try {
    const [subcommand, ...rest] = argv;
    if (subcommand !== "create") {
      io.stderr(CANDIDATE_USAGE);
      return subcommand === "--help" || subcommand === "help" ? 0 : 2;
    }
    const { values } = parseArgs({
      args: rest,
      options: {
        bundle: { type: "string" },
        rpc: { type: "string" },
        target: { type: "string" },
        implementation: { type: "string" },
        "proposer-key-file": { type: "string" },
        "network-id": { type: "string" },
        lifetime: { type: "string", default: "86400" },
        nonce: { type: "string" },
        binding: { type: "string" },
        out: { type: "string" },
      },
      strict: true,
    });
    if (!values.bundle || !values.rpc || !values.target || !values.implementation) {
      throw new Error("--bundle, --rpc, --target and --implementation are required");
    }
    const target = address(values.target, "--target");
    const implementation = address(values.implementation, "--implementation");
    const lifetime = integer(values.lifetime, "--lifetime");
    if (lifetime <= 0n || lifetime > BigInt(DEFAULT_ADMISSION.maxLifetimeSeconds)) {
      throw new Error(`--lifetime must be in (0, ${DEFAULT_ADMISSION.maxLifetimeSeconds}] seconds: nodes refuse longer`);
    }
    const networkId = values["network-id"];
    if (values["proposer-key-file"] && !networkId) throw new Error("--network-id is required to sign: a signature is bound to one Sentinel network");
    if (networkId !== undefined && !isNetworkId(networkId)) throw new Error("--network-id must be 0x followed by 64 hex digits, not all zero");
    const binding = values.binding;
    if (binding !== undefined && !isBinding(binding)) throw new Error("--binding must be 0x followed by 64 hex digits, not all zero (leave it out for an unbound approval)");

    let bundle;
    try {
      bundle = parseBundle(JSON.parse(readFileSync(callerPath(values.bundle), "utf8")));
    } catch (error) {
      throw new Error(`${values.bundle}: ${(error as Error).message}`);
    }
    const client = createPublicClient({ transport: http(values.rpc, { retryCount: 1 }) });
    const [chainId, blockNumber] = await Promise.all([client.getChainId(), client.getBlockNumber()]).catch((error: unknown) => {
      throw new Error(`cannot read the chain at --rpc ${values.rpc}: ${(error as Error).message.split("\n")[0]}`);
    });
    const now = BigInt(Math.floor(Date.now() / 1000));
    const candidate: Candidate = {
      chainId: BigInt(chainId),
      target,
      implementation,
      sourceHash: bundleHash(bundle),
      policyHash: policyHash(bundle.policy),
      blockNumber,
      nonce: values.nonce === undefined ? BigInt(Date.now()) : integer(values.nonce, "--nonce"),
      createdAt: now,
      expiresAt: now + lifetime,
      ...(binding !== undefined ? { binding: binding.toLowerCase() as Hex } : {}),
    };
    let signature: Hex | undefined;
    let proposer: Address | undefined;
    if (values["proposer-key-file"]) {
      const account = privateKeyToAccount(loadKeyFile(callerPath(values["proposer-key-file"]), "proposer"));
      signature = await account.signTypedData({ domain: sentinelDomain(networkId as Hex), ...candidateTypedData(candidate) });
      proposer = account.address;
    }
    // The proposer's address rides along (`sentinel submit` sends it): a node that recovers
    // another signer can then name a signature mismatch as such.
    const json = signature
      ? { ...signedCandidateToJson({ candidate, signature }), proposer, candidateId: candidateId(networkId as Hex, candidate) }
      : { candidate: signedCandidateToJson({ candidate, signature: "0x" }).candidate };
    const text = `${JSON.stringify({ ...json, bundle }, null, 2)}\n`;
    if (values.out) {
      writeFileSync(callerPath(values.out), text);
      if (signature) io.stdout(`${JSON.stringify({ candidateId: candidateId(networkId as Hex, candidate), proposer, out: values.out })}\n`);
    }
    else io.stdout(text);
    return 0;
  } catch (error) {
    io.stderr(`sentinel candidate: ${(error as Error).message}\n`);
    return 2;
  }
}

function address(value: string, flag: string): Address {
  if (!isAddress(value, { strict: false })) throw new Error(`${flag} must be a 20-byte hex address`);
  return getAddress(value);
}

function integer(value: string, flag: string): bigint {
  if (!/^(0|[1-9][0-9]{0,19})$/.test(value)) throw new Error(`${flag} must be a non-negative integer`);
  return BigInt(value);
}
