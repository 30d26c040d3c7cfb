// `sentinel validator propose`: a current validator's operator proposes the next set (one member
// added or removed). The command signs the proposal with this operator's key, asks each listed
// node for its vote (POST /v1/rotations: every node checks the request itself and signs the
// registry's rotation digest under its signing record), checks and aggregates the votes to the
// current set's threshold, and submits the rotation to every configured chain's registry. The
// nodes notice the activation on chain and restart with the new set.
//
// Votes are collected over HTTP rather than gossip: a rotation is rare and operator-driven, and
// the operator needs the refusals (which node, why) in front of them, not in remote logs.
import { PublicKey, verify } from "@chainsafe/blst";
import { bytesToHex, concatHex, hexToBytes, type Hex } from "viem";
import pino from "pino";
import { connectChain } from "../chains/clients.ts";
import { openChainEndpoint, type ChainEndpoint } from "../chains/rpcQuorum.ts";
import { RegistryReader } from "../chains/registryReader.ts";
import { submitRotation, type RotationReceipt } from "../chains/rotation.ts";
import { rotationDigests, type RotationRequest } from "../codec/rotation.ts";
import type { RotationVote } from "../consensus/rotationSigner.ts";
import { aggregate, minimumThreshold, signerBitmap, sortPublicKeys, type ValidatorSetView } from "../consensus/validatorSet.ts";
import { loadConfig } from "../config/load.ts";
import { publicKeyRaw, signatureFromEip2537, signatureToEip2537, type Signature } from "../crypto/bls.ts";
import { loadSecretKey, resolvePassword } from "../crypto/keystore.ts";
import { ClientError } from "../client/errors.ts";
import { readValidators } from "./registry.ts";
import { EXIT, EXIT_CODES_HELP, callerPath, parseCommand, readKeyFile, requireFlag, runCommand, type CommandIo } from "./common.ts";
import { UsageError } from "./errors.ts";

export const VALIDATOR_USAGE = `Usage:
  sentinel validator propose --config <node config> (--add <key.json> | --remove <index>) --nodes <url>[,<url>…]
                             --key-file <sender.key> [--threshold <n>] [--proofs <validators.json>] [--json]

Proposes the next validator set: the current one with one validator added or removed. Run by the
operator of a current validator, with that node's config (its keystore signs the proposal, its
chains are where the rotation goes). Each node in --nodes checks the proposal and votes (its
signing record never lets it vote for two rotations of one set index); once the current set's
threshold has voted, the rotation is submitted to every configured chain's registry, with the
proofs of possession that admit the next set's keys. The nodes restart with the new set once it
is active; the replaced set keeps verifying for the registry's grace period.

Options:
  --add <key.json>        what \`sentinel keys show\` / \`keys generate\` printed for the joining key
  --remove <index>        the validator index (in the current set) to remove
  --nodes <urls>          API URLs of the current set's nodes, comma-separated (this operator's own too)
  --threshold <n>         of the next set (default and minimum ⌊2n/3⌋ + 1)
  --proofs <file>         proofs of possession of current members whose node does not answer
                          (the validators file of \`registry deploy\`): the registry needs every key's
  --key-file <file>       a key funded on every chain, to pay for the transactions (not the node's relayer
                          key: the running node sends with that one, and two senders race for nonces)
  --json                  print { setIndex, threshold, keys, signers, chains: [{ chainId, result, transactions }] }

${EXIT_CODES_HELP}
`;

export async function runValidatorCommand(argv: string[], io: CommandIo): Promise<number> {
  const [subcommand, ...rest] = argv;
  return runCommand("validator", VALIDATOR_USAGE, io, async () => {
    if (subcommand !== "propose") throw new UsageError(subcommand === undefined ? "missing subcommand: propose" : `unknown subcommand "${subcommand}"`);
    const { values, help } = parseCommand(rest, {
      config: { type: "string" },
      add: { type: "string" },
      remove: { type: "string" },
      nodes: { type: "string" },
      threshold: { type: "string" },
      proofs: { type: "string" },
      "key-file": { type: "string" },
      json: { type: "boolean" },
    });
    if (help) {
      io.stdout(VALIDATOR_USAGE);
      return EXIT.OK;
    }
    const config = loadConfig(callerPath(requireFlag(values.config, "--config", "the proposing validator's node config")));
    if ((values.add === undefined) === (values.remove === undefined)) throw new UsageError("give one of --add <key.json> or --remove <index>");
    const nodes = requireFlag(values.nodes, "--nodes", "the nodes whose votes make the threshold").split(",").map((url) => url.trim()).filter(Boolean);
    const say = (line: string) => (values.json ? undefined : io.stdout(`${line}\n`));

    // Each chain read as the node reads it: through a quorum of its endpoints when it has several.
    const endpoints = new Map<number, ChainEndpoint>();
    const urlOf = (chainId: number) => endpoints.get(chainId)!.url;
    try {
      for (const chain of config.chains) endpoints.set(chain.chainId, await openChainEndpoint(chain, pino({ level: "silent" })));
      const secretKey = await loadSecretKey(config.validator.keystore, resolvePassword(config.validator));
      // Not the node's relayer key: the running node sends with it, and two senders of one account race for nonces.
      const senderKey = readKeyFile(requireFlag(values["key-file"], "--key-file", "a funded key that pays for the transactions on every chain"), "sender");

      const sets = await Promise.all(
        config.chains.map((chain) =>
          new RegistryReader({ chainId: chain.chainId, registry: chain.registry }, { client: connectChain(chain.chainId, urlOf(chain.chainId), senderKey).client })
            .currentValidatorSet()
            .catch((error: unknown) => {
              throw new ClientError("NODE_UNAVAILABLE", `cannot read the registry on chain ${chain.chainId}: ${(error as Error).message.split("\n")[0]}`, { url: `chain ${chain.chainId}` }, { cause: error });
            }),
        ),
      );
      const current = sets[0]!;
      const rawOf = (key: PublicKey) => bytesToHex(publicKeyRaw(key));
      const fingerprint = (set: ValidatorSetView) => `${set.index}:${set.threshold}:${set.keys.map(rawOf).join("")}`;
      if (sets.some((set) => fingerprint(set) !== fingerprint(current))) {
        throw new Error(`the registries hold different current sets (${sets.map((s, i) => `chain ${config.chains[i]!.chainId}: set ${s.index}`).join(", ")}); finish the last rotation everywhere first`);
      }

      const joining = values.add !== undefined ? readValidators(values.add, config.networkId) : [];
      let next: PublicKey[];
      if (values.remove !== undefined) {
        const index = Number(values.remove);
        if (!Number.isInteger(index) || index < 0 || index >= current.keys.length) throw new UsageError(`--remove must be a validator index of set ${current.index}, 0..${current.keys.length - 1}`);
        if (current.keys.length === 1) throw new UsageError("cannot remove the last validator");
        next = current.keys.filter((_, i) => i !== index);
      } else {
        if (joining.length !== 1) throw new UsageError(`${values.add} must hold one key`);
        if (current.keys.some((key) => rawOf(key) === rawOf(joining[0]!.key))) throw new UsageError(`that key is already validator ${current.keys.findIndex((key) => rawOf(key) === rawOf(joining[0]!.key))} of set ${current.index}`);
        next = sortPublicKeys([...current.keys, joining[0]!.key]);
      }
      const minimum = minimumThreshold(next.length);
      const threshold = values.threshold === undefined ? minimum : Number(values.threshold);
      if (!Number.isInteger(threshold) || threshold < minimum || threshold > next.length) throw new UsageError(`--threshold must be an integer from ${minimum} to ${next.length}`);

      const own = rawOf(secretKey.toPublicKey());
      const proposerIndex = current.keys.findIndex((key) => rawOf(key) === own);
      if (proposerIndex < 0) throw new Error(`this config's key is not in the current set ${current.index}: only a current validator proposes`);
      const keys = next.map(rawOf);
      const base = { setIndex: current.index + 1, keys, threshold };
      const digests = rotationDigests(config.networkId, base);
      const request: RotationRequest = {
        ...base,
        proofsOfPossession: joining.map((j) => signatureToEip2537(j.proof)),
        proposer: { validatorIndex: proposerIndex, signature: signatureToEip2537(secretKey.sign(hexToBytes(digests.proposal))) },
      };
      say(`set ${current.index} (${current.keys.length} keys, threshold ${current.threshold}) -> set ${base.setIndex} (${keys.length} keys, threshold ${threshold}); asking ${nodes.length} node(s) to vote`);

      const votes = new Map<number, { signature: Signature; proof: Signature }>();
      for (const url of nodes) {
        const vote = await askVote(url, request).catch((error: unknown) => ({ refused: (error as Error).message }));
        if ("refused" in vote) {
          io.stderr(`${url}: ${vote.refused}\n`);
          continue;
        }
        const key = current.keys[vote.validatorIndex];
        const signature = key && vote.digest === digests.rotation ? decode(vote.signature) : undefined;
        const proof = decode(vote.proofOfPossession);
        if (!key || !signature || !proof || !verify(hexToBytes(digests.rotation), key, signature, true, true)) {
          io.stderr(`${url}: its vote does not verify against validator ${vote.validatorIndex} of set ${current.index}; not counted\n`);
          continue;
        }
        votes.set(vote.validatorIndex, { signature, proof });
        say(`${url}: validator ${vote.validatorIndex} voted`);
      }
      if (votes.size < current.threshold) throw new Error(`${votes.size} vote(s), set ${current.index} needs ${current.threshold}: nothing submitted`);

      // Every key of the next set needs its proof again for admitValidatorKeys.
      const proofs = new Map<Hex, Signature>();
      for (const [index, vote] of votes) proofs.set(rawOf(current.keys[index]!), vote.proof);
      for (const j of joining) proofs.set(rawOf(j.key), j.proof);
      if (values.proofs !== undefined) for (const v of readValidators(values.proofs, config.networkId)) if (!proofs.has(rawOf(v.key))) proofs.set(rawOf(v.key), v.proof);
      const missing = keys.flatMap((key, i) => (proofs.has(key) ? [] : [i]));
      if (missing.length > 0) throw new UsageError(`no proof of possession for next-set key(s) ${missing.join(", ")} (their nodes did not vote): pass --proofs with the validators file`);

      const signers = [...votes.keys()].sort((a, b) => a - b);
      const signed = {
        setIndex: base.setIndex,
        keysBlob: concatHex(keys),
        keysHash: digests.keysHash,
        threshold,
        signers: signerBitmap(signers),
        signature: signatureToEip2537(aggregate(signers.map((i) => votes.get(i)!.signature))),
        proofs: keys.map((key) => proofs.get(key)!),
      };
      const receipts: RotationReceipt[] = [];
      for (const chain of config.chains) {
        const receipt = await submitRotation(connectChain(chain.chainId, urlOf(chain.chainId), senderKey), chain.registry, signed);
        receipts.push(receipt);
        say(`chain ${chain.chainId}: set ${base.setIndex} ${receipt.result} (${receipt.transactions.length} transaction(s))`);
      }
      if (values.json) {
        io.stdout(`${JSON.stringify({ setIndex: base.setIndex, threshold, keys, signers, chains: receipts })}\n`);
      }
      return EXIT.OK;
    } finally {
      for (const endpoint of endpoints.values()) await endpoint.close();
    }
  });
}

async function askVote(url: string, request: RotationRequest): Promise<RotationVote> {
  const response = await fetch(new URL("/v1/rotations", url), {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(request),
    signal: AbortSignal.timeout(15_000),
  });
  const body = (await response.json().catch(() => ({}))) as RotationVote & { error?: string; message?: string };
  if (!response.ok) throw new Error(`refused (${response.status} ${body.error ?? ""}): ${body.message ?? ""}`);
  return body;
}

function decode(encoded: unknown): Signature | undefined {
  try {
    return typeof encoded === "string" ? signatureFromEip2537(encoded as Hex) : undefined;
  } catch {
    return undefined;
  }
}
